import {
  EARLIEST_OCCURRED_AT, EVENT_TYPES_V1, MAX_CLOCK_SKEW_MS, MAX_FEATURE_DIM, MAX_ID_LENGTH, MAX_PROMPT_LENGTH,
  MAX_URI_LENGTH, MAX_USER_ID_LENGTH, textProblem,
} from './events';

/**
 * The one definition of a valid event and generation (invariant 8): the api's batch parsers and the worker's
 * decoders both check fields with these rules, so what the api answers 202 for is exactly what the worker stores.
 * Every rule is also a promise about the column it lands in (migrations/): lengths count Unicode code points (as
 * PostgreSQL's char_length does), numbers fit their column (float8, smallint, real), timestamps are ones
 * PostgreSQL reads back as the same instant JavaScript saw.
 */
export interface FieldProblem {
  field: string;
  problems: string[];
}

/** A problem with the value itself (a string), or with one element of it (`['[3]', 'must be a finite number']`). */
export type Check = (value: unknown) => string | [suffix: string, problem: string] | null;

export interface FieldRule {
  /** Absent (undefined or null) is allowed unless this says otherwise. */
  required?: boolean | ((record: Record<string, unknown>) => boolean);
  /** Appended to "is required" when `required` depends on the record, e.g. " for a rate event". */
  requiredWhen?: string;
  check: Check;
}

export type RecordRules = Readonly<Record<string, FieldRule>>;

/** Unicode code points of a well-formed string; only counted when UTF-16 length alone cannot decide. */
export function lengthProblem(value: string, min: number, max: number): string | null {
  const units = value.length;
  // Code points lie in [ceil(units / 2), units].
  if (units <= max && (units + 1) >> 1 >= min) return null;
  let points = units;
  if (units > max) {
    for (let i = 0; i < units; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < units && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        points--;
        i++;
      }
    }
  }
  return points < min || points > max ? (min === 0 ? `must be at most ${max} characters long` : `must be ${min} to ${max} characters long`) : null;
}

export const text = (min: number, max: number): Check => (v) =>
  typeof v !== 'string' ? 'must be a string' : lengthProblem(v, min, max) ?? textProblem(v);

export const number = (min: number, max: number, integer = false): Check => (v) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return integer ? 'must be an integer number' : 'must be a finite number';
  if (integer && !Number.isInteger(v)) return 'must be an integer number';
  if (v < min) return `must not be less than ${min}`;
  if (v > max) return `must not be greater than ${max}`;
  return null;
};

/** The largest finite float32 (PostgreSQL `real`); larger magnitudes round to infinity, which `real` refuses. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Features land in a `real[]` column: each is stored as its float32 rounding (Math.fround), as every feature
 * always was. What has no finite float32 rounding (|x| ≥ 3.4028235677973366e38) is refused; tiny values round to a
 * float32 subnormal or to 0, like any other value rounds to its nearest float32.
 */
export const float32Array = (minItems: number, maxItems: number): Check => (v) => {
  if (!Array.isArray(v) || v.length < minItems || v.length > maxItems) return `must be an array of ${minItems} to ${maxItems} numbers`;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return [`[${i}]`, 'must be a finite number'];
    if (!Number.isFinite(Math.fround(x))) return [`[${i}]`, `must be within the float32 range (±${FLOAT32_MAX})`];
  }
  return null;
};

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;
const TIMESTAMP_FORMAT = 'must be an ISO-8601 timestamp with a time zone and at most 6 fractional digits, e.g. 2026-01-31T12:00:00Z';

/**
 * Why a value is not an instant this contract takes, or null: ISO-8601 with a zone (offsets up to ±14:00, as on
 * Earth), at most microseconds (PostgreSQL's precision: more digits it would round, JavaScript truncates, and the
 * two could disagree on the millisecond or even the hour), a real day and time, in [2015-01-01, now + 1 day].
 */
export function timestampProblem(value: unknown, now = Date.now()): string | null {
  // Fast path: the canonical form the api itself writes (toISOString) needs no calendar check. The last canonical
  // value is remembered: every event of a batch carries the same receivedAt (the window is still checked each time).
  if (typeof value === 'string' && value.length === 24 && value[23] === 'Z') {
    if (value === lastCanonical.text) return windowProblem(lastCanonical.ms, now);
    const ms = canonicalMs(value);
    if (!Number.isNaN(ms)) {
      lastCanonical = { text: value, ms };
      return windowProblem(ms, now);
    }
  }
  const m = typeof value === 'string' ? TIMESTAMP.exec(value) : null;
  if (!m) return TIMESTAMP_FORMAT;
  const [y, mo, d, hh, mm, ss, , oh, om] = m.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || hh > 23 || mm > 59 || ss > 59) return 'is not a valid date';
  if (oh * 60 + om > 14 * 60 || om > 59) return 'has a time zone offset beyond ±14:00';
  const ms = Date.parse(value as string);
  if (Number.isNaN(ms)) return 'is not a valid date';
  return windowProblem(ms, now);
}

let lastCanonical = { text: '', ms: 0 };

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two decimal digits at `at`, or −1. */
function digits2(v: string, at: number): number {
  const a = v.charCodeAt(at) - 48;
  const b = v.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The instant of a timestamp this contract took, in Unix milliseconds as Date.parse reads it (digits past the
 * millisecond dropped): the canonical form digit by digit, any other accepted form through Date.parse.
 */
export function instantMs(value: string): number {
  const ms = canonicalMs(value);
  return Number.isNaN(ms) ? Date.parse(value) : ms;
}

/**
 * The instant of a 24-character `YYYY-MM-DDTHH:MM:SS.mmmZ` (exactly the strings Date#toISOString writes for years
 * 0–9999), or NaN: read digit by digit, a real calendar day and time of day, no Date.parse and no string built to
 * compare (every event carries two timestamps, checked by the api and again by the worker).
 */
export function canonicalMs(v: string): number {
  if (v.length !== 24 || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45 || v.charCodeAt(10) !== 84 || v.charCodeAt(13) !== 58
      || v.charCodeAt(16) !== 58 || v.charCodeAt(19) !== 46 || v.charCodeAt(23) !== 90) return NaN;
  const century = digits2(v, 0);
  const yy = digits2(v, 2);
  const month = digits2(v, 5);
  const day = digits2(v, 8);
  const hour = digits2(v, 11);
  const minute = digits2(v, 14);
  const second = digits2(v, 17);
  const msHigh = digits2(v, 20);
  const msLow = v.charCodeAt(22) - 48;
  if (century < 0 || yy < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59
      || second < 0 || second > 59 || msHigh < 0 || msLow < 0 || msLow > 9) return NaN;
  const year = century * 100 + yy;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1])) return NaN;
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
  const date = new Date(0);
  if (year < 100) {
    date.setUTCFullYear(year, month - 1, day);
    return date.setUTCHours(hour, minute, second, msHigh * 10 + msLow);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, msHigh * 10 + msLow);
}

function windowProblem(ms: number, now: number): string | null {
  if (ms < EARLIEST_OCCURRED_AT) return 'is before 2015-01-01';
  if (ms > now + MAX_CLOCK_SKEW_MS) return 'is more than a day in the future';
  return null;
}

export const timestamp: Check = (v) => timestampProblem(v);

const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES_V1);
const TYPE_MESSAGE = `must be one of: ${EVENT_TYPES_V1.join(', ')}`;
const DIMENSION = /^[a-z][a-z0-9_]{0,63}$/;

const id = text(1, MAX_ID_LENGTH);
/** fps is stored as `real`, numFrames as `integer`: the bounds keep both exact and plausible. */
export const MIN_FPS = 0.01;
export const MAX_FPS = 1000;
export const MAX_NUM_FRAMES = 10_000_000;
const milliseconds = number(0, 1e9);

/** Fields an event has both as the api receives it and as it travels on Kafka, in reporting order. */
const EVENT_COMMON = {
  eventId: { required: true, check: id },
  type: { required: true, check: (v: unknown) => (typeof v === 'string' && TYPES.has(v) ? null : TYPE_MESSAGE) },
  videoId: { required: true, check: id },
};
const EVENT_DETAILS = {
  occurredAt: { required: true, check: timestamp },
  sessionId: { check: id },
  requestId: { check: id },
  watchMs: { required: (e: Record<string, unknown>) => e.type === 'progress', requiredWhen: ' for a progress event', check: milliseconds },
  durationMs: { check: milliseconds },
  // smallint in feedback_events and video_user_signals; the policy reads whole stars (DESIGN.md: rate 1–5).
  rating: { required: (e: Record<string, unknown>) => e.type === 'rate', requiredWhen: ' for a rate event', check: number(1, 5, true) },
  dimension: { check: (v: unknown) => (typeof v === 'string' && DIMENSION.test(v) ? null : 'must be snake_case, e.g. visual_quality') },
};

/** One event of POST /v1/events. */
export const EVENT_INPUT_RULES: RecordRules = { ...EVENT_COMMON, userId: { required: true, check: text(1, MAX_USER_ID_LENGTH) }, ...EVENT_DETAILS };
/** One message of flywheel.events.v1 (besides v and projectId): the user id is already the api's HMAC. */
export const EVENT_MESSAGE_RULES: RecordRules = {
  ...EVENT_COMMON, userHash: { required: true, check: id }, ...EVENT_DETAILS, receivedAt: { required: true, check: timestamp },
};

const GENERATION_COMMON = {
  videoId: { required: true, check: id },
  requestId: { required: true, check: id },
  prompt: { required: true, check: text(0, MAX_PROMPT_LENGTH) },
  model: { required: true, check: id },
  modelVersion: { required: true, check: id },
  category: { check: id },
  segment: { check: id },
  durationMs: { check: milliseconds },
  uri: { check: text(1, MAX_URI_LENGTH) },
  // Frame rate and frame count of the video file, when the generator knows them (VideoAlign's fps_A, num_frames_A).
  fps: { check: number(MIN_FPS, MAX_FPS) },
  numFrames: { check: number(1, MAX_NUM_FRAMES, true) },
  features: { required: true, check: float32Array(1, MAX_FEATURE_DIM) },
};

/** One generation of POST /v1/generations; createdAt defaults to the time received. */
export const GENERATION_INPUT_RULES: RecordRules = { ...GENERATION_COMMON, createdAt: { check: timestamp } };
/** One message of flywheel.generations.v1 (besides v and projectId). */
export const GENERATION_MESSAGE_RULES: RecordRules = {
  ...GENERATION_COMMON, createdAt: { required: true, check: timestamp }, receivedAt: { required: true, check: timestamp },
};

const compiled = new WeakMap<RecordRules, [string, FieldRule][]>();

/**
 * Checks one record against its rules, appending a problem per bad field to `problems`, named by path
 * (`events[3].rating must not be greater than 5`). Null counts as absent. Unknown properties are refused for
 * requests (`property events[0].mood should not exist`) and ignored in Kafka messages (a newer producer may add
 * fields this worker does not store).
 */
export function checkRecord(record: Record<string, unknown>, rules: RecordRules, path: string, problems: FieldProblem[], unknown: 'refuse' | 'ignore'): void {
  let entries = compiled.get(rules);
  if (!entries) compiled.set(rules, (entries = Object.entries(rules)));
  const prefix = path ? `${path}.` : '';
  if (unknown === 'refuse') {
    for (const key in record) {
      if (!Object.prototype.hasOwnProperty.call(rules, key)) {
        problems.push({ field: `${prefix}${key}`, problems: [`property ${prefix}${key} should not exist`] });
      }
    }
  }
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const rule = entry[1];
    const value = record[entry[0]];
    if (value === undefined || value === null) {
      const required = typeof rule.required === 'function' ? rule.required(record) : rule.required === true;
      if (required) {
        const field = prefix + entry[0];
        problems.push({ field, problems: [`${field} is required${rule.requiredWhen ?? ''}`] });
      }
      continue;
    }
    const problem = rule.check(value);
    if (problem === null) continue;
    const field = prefix + entry[0];
    if (typeof problem === 'string') problems.push({ field, problems: [`${field} ${problem}`] });
    else problems.push({ field: field + problem[0], problems: [`${field}${problem[0]} ${problem[1]}`] });
  }
}

export type ParsedBatch<T> = { ok: true; items: T[] } | { ok: false; problems: FieldProblem[] };

/** Validates `{ <name>: [item, …] }` (1 to max items) in one pass, every problem of every item named by path. */
export function parseBatch<T>(body: unknown, name: string, max: number, rules: RecordRules): ParsedBatch<T> {
  const problems: FieldProblem[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, problems: [{ field: 'body', problems: [`body must be a JSON object with a ${name} array`] }] };
  }
  for (const key of Object.keys(body)) {
    if (key !== name) problems.push({ field: key, problems: [`property ${key} should not exist`] });
  }
  const items = (body as Record<string, unknown>)[name];
  if (!Array.isArray(items)) {
    problems.push({ field: name, problems: [`${name} must be an array of ${name}`] });
    return { ok: false, problems };
  }
  if (items.length < 1) problems.push({ field: name, problems: [`${name} must contain at least 1 elements`] });
  if (items.length > max) {
    problems.push({ field: name, problems: [`${name} must contain no more than ${max} elements`] });
    return { ok: false, problems };
  }
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const path = `${name}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push({ field: path, problems: [`${path} must be an object`] });
    } else {
      checkRecord(item as Record<string, unknown>, rules, path, problems, 'refuse');
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, items: items as T[] };
}
