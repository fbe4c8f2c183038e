import { timestampProblem } from './decode';
import { EVENT_TYPES_V1, EventType, MAX_EVENTS_PER_BATCH, MAX_ID_LENGTH, textProblem } from './events';

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

export interface FieldProblem {
  field: string;
  problems: string[];
}

export type ParsedBatch = { ok: true; events: FeedbackEventInput[] } | { ok: false; problems: FieldProblem[] };

const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES_V1);
const TYPE_MESSAGE = `must be one of: ${EVENT_TYPES_V1.join(', ')}`;
const DIMENSION = /^[a-z][a-z0-9_]{0,63}$/;
type Check = (value: unknown, event: Record<string, unknown>) => string | null;

const text = (max: number): Check => (v) =>
  typeof v !== 'string' ? 'must be a string' : v.length < 1 || v.length > max ? `must be 1 to ${max} characters long`
    : textProblem(v);
const number = (min: number, max: number, integer = false): Check => (v) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return integer ? 'must be an integer number' : 'must be a finite number';
  if (integer && !Number.isInteger(v)) return 'must be an integer number';
  if (v < min) return `must not be less than ${min}`;
  if (v > max) return `must not be greater than ${max}`;
  return null;
};

/** Each field: whether it is required (possibly depending on the event's type) and how it is checked. */
const FIELDS: Record<keyof FeedbackEventInput, { required: (e: Record<string, unknown>) => boolean; check: Check }> = {
  eventId: { required: () => true, check: text(MAX_ID_LENGTH) },
  type: { required: () => true, check: (v) => (typeof v === 'string' && TYPES.has(v) ? null : TYPE_MESSAGE) },
  videoId: { required: () => true, check: text(MAX_ID_LENGTH) },
  userId: { required: () => true, check: text(256) },
  occurredAt: { required: () => true, check: (v) => timestampProblem(v) },
  sessionId: { required: () => false, check: text(MAX_ID_LENGTH) },
  requestId: { required: () => false, check: text(MAX_ID_LENGTH) },
  watchMs: { required: (e) => e.type === 'progress', check: number(0, 1e9) },
  durationMs: { required: () => false, check: number(0, 1e9) },
  rating: { required: (e) => e.type === 'rate', check: number(1, 5, true) },
  dimension: { required: () => false, check: (v) => (typeof v === 'string' && DIMENSION.test(v) ? null : 'must be snake_case, e.g. visual_quality') },
};
const FIELD_NAMES = Object.keys(FIELDS) as (keyof FeedbackEventInput)[];

/**
 * Validates a `POST /v1/events` body in one pass, naming each problem by path (`events[3].rating must not be
 * greater than 5`). Hand-written rather than class-validator: on the hot ingest path the decorator machinery cost
 * ~17 µs an event, most of the api's CPU (see README, bench:ingest). Never throws.
 */
export function parseFeedbackBatch(body: unknown): ParsedBatch {
  const problems: FieldProblem[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, problems: [{ field: 'body', problems: ['body must be a JSON object with an events array'] }] };
  }
  for (const key of Object.keys(body)) {
    if (key !== 'events') problems.push({ field: key, problems: [`property ${key} should not exist`] });
  }
  const events = (body as { events?: unknown }).events;
  if (!Array.isArray(events)) {
    problems.push({ field: 'events', problems: ['events must be an array of events'] });
    return { ok: false, problems };
  }
  if (events.length < 1) problems.push({ field: 'events', problems: ['events must contain at least 1 elements'] });
  if (events.length > MAX_EVENTS_PER_BATCH) {
    problems.push({ field: 'events', problems: [`events must contain no more than ${MAX_EVENTS_PER_BATCH} elements`] });
    return { ok: false, problems };
  }
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const path = `events[${i}]`;
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      problems.push({ field: path, problems: [`${path} must be an object`] });
      continue;
    }
    const e = event as Record<string, unknown>;
    for (const key in e) {
      if (!(key in FIELDS)) problems.push({ field: `${path}.${key}`, problems: [`property ${path}.${key} should not exist`] });
    }
    for (const name of FIELD_NAMES) {
      const spec = FIELDS[name];
      const value = e[name];
      if (value === undefined || value === null) {
        if (spec.required(e)) problems.push({ field: `${path}.${name}`, problems: [`${path}.${name} is required${name === 'rating' ? ' for a rate event' : name === 'watchMs' ? ' for a progress event' : ''}`] });
        continue;
      }
      const problem = spec.check(value, e);
      if (problem) problems.push({ field: `${path}.${name}`, problems: [`${path}.${name} ${problem}`] });
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, events: events as FeedbackEventInput[] };
}
