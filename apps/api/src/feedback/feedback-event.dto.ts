import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EVENT_TYPES_V1, EventType, MAX_EVENTS_PER_BATCH, MAX_ID_LENGTH } from '@flywheel/contracts';

/**
 * The documented shape of POST /v1/events (OpenAPI only). Requests are validated by parseFeedbackBatch in
 * libs/contracts, which enforces these rules in one pass; test/validation.test.ts checks them over HTTP.
 */
export class FeedbackEventDto {
  @ApiProperty({ description: 'Client-generated idempotency key, unique per project', maxLength: MAX_ID_LENGTH })
  eventId: string;

  @ApiProperty({ enum: EVENT_TYPES_V1 })
  type: EventType;

  @ApiProperty({ maxLength: MAX_ID_LENGTH })
  videoId: string;

  @ApiProperty({ description: 'The app user id; replaced by a keyed HMAC before it leaves the api', maxLength: 256 })
  userId: string;

  @ApiProperty({ example: '2026-01-31T12:00:00.000Z', description: 'ISO-8601 with a zone; not before 2015, at most a day ahead' })
  occurredAt: string;

  @ApiPropertyOptional() sessionId?: string;

  @ApiPropertyOptional({ description: 'Generation request of the video' })
  requestId?: string;

  @ApiPropertyOptional({ description: 'Required for `progress`: milliseconds watched', minimum: 0 })
  watchMs?: number;

  @ApiPropertyOptional({ minimum: 0 }) durationMs?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 5, description: 'Required for `rate`: an integer 1–5' })
  rating?: number;

  @ApiPropertyOptional({ example: 'visual_quality', description: '`rate` only, snake_case; `overall` when absent' })
  dimension?: string;
}

export class FeedbackBatchDto {
  @ApiProperty({ type: [FeedbackEventDto], minItems: 1, maxItems: MAX_EVENTS_PER_BATCH })
  events: FeedbackEventDto[];
}

export class AcceptedDto {
  @ApiProperty() accepted: number;
}
