import { EventType, FeedbackEventMessage, MAX_EVENTS_PER_BATCH } from './events';
import { EVENT_INPUT_RULES, FieldProblem, parseBatch } from './field-rules';

/** One event of `POST /v1/events` as an app sends it (before the api replaces userId by its HMAC). */
export interface FeedbackEventInput {
  eventId: string;
  type: EventType;
  videoId: string;
  userId: string;
  occurredAt: string;
  sessionId?: string;
  requestId?: string;
  watchMs?: number;
  durationMs?: number;
  rating?: number;
  dimension?: string;
}

export type ParsedFeedbackBatch = { ok: true; events: FeedbackEventInput[] } | { ok: false; problems: FieldProblem[] };

/**
 * Validates a `POST /v1/events` body in one pass, naming each problem by path (`events[3].rating must not be
 * greater than 5`), with the rules the worker's decoder applies (field-rules.ts). Hand-written rather than
 * class-validator: on the hot ingest path the decorator machinery cost ~17 µs an event, most of the api's CPU
 * (see README, bench:ingest). Never throws.
 */
export function parseFeedbackBatch(body: unknown): ParsedFeedbackBatch {
  const parsed = parseBatch<FeedbackEventInput>(body, 'events', MAX_EVENTS_PER_BATCH, EVENT_INPUT_RULES);
  return parsed.ok ? { ok: true, events: parsed.items } : parsed;
}

/** The Kafka message of an accepted event: what the worker's decoder checks with the same rules. */
export function toEventMessage(projectId: string, e: FeedbackEventInput, userHash: string, receivedAt: string): FeedbackEventMessage {
  return {
    v: 1, projectId, eventId: e.eventId, type: e.type, videoId: e.videoId, userHash, occurredAt: e.occurredAt, receivedAt,
    sessionId: e.sessionId, requestId: e.requestId, watchMs: e.watchMs, durationMs: e.durationMs, rating: e.rating,
    dimension: e.dimension,
  };
}
