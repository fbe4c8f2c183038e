import type { PreferencePairRow, RankedRequest } from './preference.types';
import { PreferencesError } from './preferences.errors';

/** Code-unit order: locale-independent, the same on every machine. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The one float rule of every export: `Number(x.toFixed(6))` (round half away from zero at 6 decimals, as
 * toFixed does on the exact binary value), −0 written as 0, and then the shortest decimal that reads back as that
 * double (ECMAScript Number::toString, what JSON.stringify uses). Non-finite values are refused: JSON has no NaN.
 */
export function exportNumber(x: number, field = 'number'): number {
  if (!Number.isFinite(x)) throw new PreferencesError('INVALID_ROW', `${field} is not a finite number`, { details: { field } });
  // Fast path, same result: for |x·10⁶| < 2³¹ the product's rounding error is below 2⁻²², so unless it lies within
  // 10⁻³ of a half, the nearest integer k is what toFixed(6) rounds to, and k / 10⁶ (two exact doubles, one
  // correctly rounded division) is the double Number() would read from toFixed's digits.
  const y = x * 1e6;
  if (y < 2147483648 && y > -2147483648) {
    const fraction = y - Math.floor(y);
    if (fraction < 0.499 || fraction > 0.501) {
      const r = Math.round(y) / 1e6;
      return r === 0 ? 0 : r;
    }
  }
  const r = Number(x.toFixed(6));
  return r === 0 ? 0 : r;
}

const json = JSON.stringify;

function jsonNullable(s: string | null): string {
  return s === null ? 'null' : json(s);
}

/** What a pair points at in formats that take one path per side: its URI, else its video id. */
export function videoRef(uri: string | null, videoId: string): string {
  return uri ?? videoId;
}

/**
 * One pairs-jsonl line from a row: every column of a PreferencePairRow (ties included), snake_case, in declaration
 * order, with `dimensions` keys sorted. Exports encode the same line from COPY bytes (copy/copy-jsonl.ts); this row
 * form is what a published message carries, and the specs' oracle.
 */
export function canonicalPairLine(r: PreferencePairRow): string {
  return `{"chosen_video_id":${json(r.chosenId)},"rejected_video_id":${json(r.rejectedId)},"chosen_uri":${jsonNullable(r.chosenUri)},"rejected_uri":${jsonNullable(r.rejectedUri)},"prompt":${json(r.prompt)},"request_id":${jsonNullable(r.requestId)},"model_version":${jsonNullable(r.modelVersion)},"margin":${exportNumber(r.margin, 'margin')},"weight":${exportNumber(r.weight, 'weight')},"tie":${r.tie ? 'true' : 'false'},"scope":${json(r.scope)},"group_key":${json(r.groupKey)},"split":${json(r.split)},"source":${json(r.source)},"dimensions":${dimensionsJson(r.dimensions)}}\n`;
}

/** `{"key":number,…}` with keys in code-unit order and numbers by exportNumber. */
export function dimensionsJson(dimensions: Record<string, number>): string {
  const keys = Object.keys(dimensions);
  if (keys.length === 0) return '{}';
  keys.sort(compareStrings);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out += ',';
    out += `${json(keys[i])}:${exportNumber(dimensions[keys[i]], `dimensions.${keys[i]}`)}`;
  }
  return out + '}';
}

/** One ranked-jsonl line: request_id, prompt, source, candidates [{video_id, uri, score, n}] best first. */
export function rankedLine(r: RankedRequest): string {
  let candidates = '';
  for (let i = 0; i < r.candidates.length; i++) {
    const c = r.candidates[i];
    if (i > 0) candidates += ',';
    candidates += `{"video_id":${json(c.videoId)},"uri":${jsonNullable(c.uri)},"score":${exportNumber(c.score, 'score')},"n":${exportNumber(c.n, 'n')}}`;
  }
  return `{"request_id":${json(r.requestId)},"prompt":${json(r.prompt)},"source":${json(r.source)},"candidates":[${candidates}]}\n`;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** RFC 4180: a field with a comma, a double quote, CR or LF is quoted, its quotes doubled. */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
