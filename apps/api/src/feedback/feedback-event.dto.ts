import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsNumber, IsOptional, IsString, Length, Matches, Max, Min,
  ValidateIf, ValidateNested,
} from 'class-validator';
import { EVENT_TYPES_V1, EventType, MAX_EVENTS_PER_BATCH, MAX_ID_LENGTH } from '@flywheel/contracts';
import { IsEventTimestamp } from './custom.validators';

const FINITE = { allowNaN: false, allowInfinity: false } as const;

export class FeedbackEventDto {
  @ApiProperty({ description: 'Client-generated idempotency key, unique per project', maxLength: MAX_ID_LENGTH })
  @IsString() @Length(1, MAX_ID_LENGTH)
  eventId: string;

  @ApiProperty({ enum: EVENT_TYPES_V1 })
  @IsIn(EVENT_TYPES_V1, { message: `type must be one of: ${EVENT_TYPES_V1.join(', ')}` })
  type: EventType;

  @ApiProperty({ maxLength: MAX_ID_LENGTH }) @IsString() @Length(1, MAX_ID_LENGTH)
  videoId: string;

  @ApiProperty({ description: 'The app user id; replaced by a keyed HMAC before it leaves the api', maxLength: 256 })
  @IsString() @Length(1, 256)
  userId: string;

  @ApiProperty({ example: '2026-01-31T12:00:00.000Z' }) @IsEventTimestamp()
  occurredAt: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, MAX_ID_LENGTH)
  sessionId?: string;

  @ApiPropertyOptional({ description: 'Generation request of the video (helps `choose`)' })
  @IsOptional() @IsString() @Length(1, MAX_ID_LENGTH)
  requestId?: string;

  @ApiPropertyOptional({ description: 'Required for `progress`: milliseconds watched' })
  @ValidateIf((o: FeedbackEventDto) => o.type === 'progress' || o.watchMs !== undefined)
  @IsNumber(FINITE) @Min(0) @Max(1e9)
  watchMs?: number;

  @ApiPropertyOptional() @IsOptional() @IsNumber(FINITE) @Min(0) @Max(1e9)
  durationMs?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 5, description: 'Required for `rate`' })
  @ValidateIf((o: FeedbackEventDto) => o.type === 'rate' || o.rating !== undefined)
  @IsInt() @Min(1) @Max(5)
  rating?: number;

  @ApiPropertyOptional({ example: 'visual_quality', description: '`rate` only; `overall` when absent' })
  @IsOptional() @IsString() @Matches(/^[a-z][a-z0-9_]{0,63}$/, { message: 'dimension must be snake_case, e.g. visual_quality' })
  dimension?: string;
}

export class FeedbackBatchDto {
  @ApiProperty({ type: [FeedbackEventDto], maxItems: MAX_EVENTS_PER_BATCH })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_EVENTS_PER_BATCH)
  @ValidateNested({ each: true }) @Type(() => FeedbackEventDto)
  events: FeedbackEventDto[];
}

export class AcceptedDto {
  @ApiProperty() accepted: number;
}
