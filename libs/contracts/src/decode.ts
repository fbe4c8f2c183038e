import { FlywheelError } from '@flywheel/errors';
import {
  EARLIEST_OCCURRED_AT, EVENT_TYPES_V1, EventType, FeedbackEventMessage, GenerationMessage, MAX_CLOCK_SKEW_MS,
  MAX_ID_LENGTH, textProblem,
} from './events';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES_V1);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class Invalid extends FlywheelError<'DECODE_FAILED'> {
  constructor(reason: string) {
    super('DECODE_FAILED', reason);
  }
}

function fail(reason: string): never {
  throw new Invalid(reason);
}

function id(obj: Record<string, unknown>, field: string): string {
  const value = obj[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
    fail(`${field} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  const problem = textProblem(value);
  if (problem) fail(`${field} ${problem}`);
  return value;
}

function optionalString(obj: Record<string, unknown>, field: string, max: number): string | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max) fail(`${field} must be a string of at most ${max} characters`);
  const problem = textProblem(value);
  if (problem) fail(`${field} ${problem}`);
  return value;
}

function optionalNumber(obj: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(`${field} must be a finite number in [${min}, ${max}]`);
  }
  return value;
}

/** Returns the timestamp if it is an ISO-8601 instant inside the accepted window. */
export function timestampProblem(value: unknown, now = Date.now()): string | null {
  // Fast path: the canonical form the api itself writes (toISOString) needs no calendar check.
  if (typeof value === 'string' && value.length === 24 && value[23] === 'Z') {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms) && new Date(ms).toISOString() === value) return windowProblem(ms, now);
  }
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
    return 'must be an ISO-8601 timestamp with a time zone, e.g. 2026-01-31T12:00:00Z';
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || !calendarValid(value)) return 'is not a valid date';
  return windowProblem(ms, now);
}

function windowProblem(ms: number, now: number): string | null {
  if (ms < EARLIEST_OCCURRED_AT) return 'is before 2015-01-01';
  if (ms > now + MAX_CLOCK_SKEW_MS) return 'is more than a day in the future';
  return null;
}

/** Date.parse rolls 2026-02-31 over to March; a timestamp must name a real day and time. */
function calendarValid(value: string): boolean {
  const [, y, m, d, hh, mm, ss] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value)!.map(Number);
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth && hh < 24 && mm < 60 && (Number.isNaN(ss) || ss < 60);
}

function timestamp(obj: Record<string, unknown>, field: string): string {
  const problem = timestampProblem(obj[field]);
  if (problem) fail(`${field} ${problem}`);
  return obj[field] as string;
}

function parseObject(raw: Buffer | string | null): Record<string, unknown> {
  if (raw === null || raw.length === 0) fail('empty message');
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    fail('not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('not a JSON object');
  const obj = parsed as Record<string, unknown>;
  if (obj.v !== 1) fail(`unsupported contract version ${JSON.stringify(obj.v)}`);
  if (typeof obj.projectId !== 'string' || !UUID.test(obj.projectId)) fail('projectId must be a UUID');
  return obj;
}

function guard<T>(decode: () => T): Decoded<T> {
  try {
    return { ok: true, value: decode() };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, reason: error.message };
    return { ok: false, reason: `undecodable: ${(error as Error).message}` };
  }
}

/** Decodes one message of `flywheel.events.v1`. Never throws: a bad message is a reason for the dead-letter topic. */
export function decodeFeedbackEvent(raw: Buffer | string | null): Decoded<FeedbackEventMessage> {
  return guard(() => {
    const obj = parseObject(raw);
    const type = obj.type;
    if (typeof type !== 'string' || !EVENT_TYPE_SET.has(type)) fail(`type ${JSON.stringify(type)} is not a v1 event type`);
    const event: FeedbackEventMessage = {
      v: 1,
      projectId: obj.projectId as string,
      eventId: id(obj, 'eventId'),
      type: type as EventType,
      videoId: id(obj, 'videoId'),
      userHash: id(obj, 'userHash'),
      occurredAt: timestamp(obj, 'occurredAt'),
      receivedAt: timestamp(obj, 'receivedAt'),
      sessionId: optionalString(obj, 'sessionId', MAX_ID_LENGTH),
      requestId: optionalString(obj, 'requestId', MAX_ID_LENGTH),
      watchMs: optionalNumber(obj, 'watchMs', 0, 1e9),
      durationMs: optionalNumber(obj, 'durationMs', 0, 1e9),
      rating: optionalNumber(obj, 'rating', 1, 5),
      dimension: optionalString(obj, 'dimension', 64),
    };
    if (event.type === 'rate' && event.rating === undefined) fail('rating is required for a rate event');
    if (event.type === 'progress' && event.watchMs === undefined) fail('watchMs is required for a progress event');
    return event;
  });
}

/** Decodes one message of `flywheel.generations.v1`; `featureDim` is checked later against the project. */
export function decodeGeneration(raw: Buffer | string | null): Decoded<GenerationMessage> {
  return guard(() => {
    const obj = parseObject(raw);
    const features = obj.features;
    if (!Array.isArray(features) || features.length === 0) fail('features must be a non-empty array of numbers');
    for (let i = 0; i < features.length; i++) {
      if (typeof features[i] !== 'number' || !Number.isFinite(features[i])) fail(`features[${i}] must be a finite number`);
    }
    const prompt = obj.prompt;
    if (typeof prompt !== 'string' || prompt.length > 10000) fail('prompt must be a string of at most 10000 characters');
    const promptProblem = textProblem(prompt);
    if (promptProblem) fail(`prompt ${promptProblem}`);
    return {
      v: 1,
      projectId: obj.projectId as string,
      videoId: id(obj, 'videoId'),
      requestId: id(obj, 'requestId'),
      prompt,
      model: id(obj, 'model'),
      modelVersion: id(obj, 'modelVersion'),
      category: optionalString(obj, 'category', MAX_ID_LENGTH),
      segment: optionalString(obj, 'segment', MAX_ID_LENGTH),
      durationMs: optionalNumber(obj, 'durationMs', 0, 1e9),
      uri: optionalString(obj, 'uri', 2048),
      features: features as number[],
      createdAt: timestamp(obj, 'createdAt'),
      receivedAt: timestamp(obj, 'receivedAt'),
    };
  });
}
