import { csvField, exportNumber, rankedLine, videoRef } from './canonical-encoding';
import type { PreferencePairRow, RankedRequest } from './preference.types';
import { PreferencesError } from './preferences.errors';

/**
 * Rows from memory, or from a cursor. A cursor may hand out pages (arrays of rows) instead of single rows: an await
 * per page rather than per row is what lets a database export keep up (rows themselves are never arrays).
 */
export type RowSource<T> = Iterable<T> | AsyncIterable<T | readonly T[]>;

/** Filled in by an encoder as it goes (pass one in to read the counts after the stream ends). */
export interface ExportStats {
  rows: number;
  written: number;
  /** Rows the format cannot carry (ties in dpo-jsonl). */
  skippedTies: number;
  bytes: number;
}

export function newExportStats(): ExportStats {
  return { rows: 0, written: 0, skippedTies: 0, bytes: 0 };
}

/** Text is yielded in UTF-8 chunks of about this many characters: few, large writes. */
const CHUNK_CHARS = 64 * 1024;

/** Lines of text in UTF-8 chunks of about CHUNK_CHARS: the loop of every text encoder. */
export async function* encodeLines<T>(
  rows: RowSource<T>,
  lineOf: (row: T) => string | null,
  stats: ExportStats,
  header = '',
): AsyncGenerator<Buffer> {
  let chunk = header;
  const add = (row: T): Buffer | null => {
    stats.rows++;
    const line = lineOf(row);
    if (line === null) return null;
    stats.written++;
    chunk += line;
    if (chunk.length < CHUNK_CHARS) return null;
    const buf = Buffer.from(chunk, 'utf8');
    stats.bytes += buf.length;
    chunk = '';
    return buf;
  };
  yield* driveRows(rows, add);
  if (chunk.length > 0) {
    const buf = Buffer.from(chunk, 'utf8');
    stats.bytes += buf.length;
    yield buf;
  }
}

/**
 * Feeds every row of a source to `add` and yields what it returns when not null: the loop every encoder shares. A
 * sync source (rows in memory) is read without an await per row; an async one (a cursor) a row or a page at a time.
 */
export async function* driveRows<T>(rows: RowSource<T>, add: (row: T) => Buffer | null): AsyncGenerator<Buffer> {
  if (isSyncIterable(rows)) {
    for (const row of rows) {
      const out = add(row);
      if (out) yield out;
    }
    return;
  }
  for await (const item of rows) {
    for (const row of isPage(item) ? item : [item]) {
      const out = add(row);
      if (out) yield out;
    }
  }
}

export function isPage<T>(item: T | readonly T[]): item is readonly T[] {
  return Array.isArray(item);
}

export function isSyncIterable<T>(rows: RowSource<T>): rows is Iterable<T> {
  return typeof (rows as Iterable<T>)[Symbol.iterator] === 'function';
}

/** ranked-jsonl: one request per line, candidates best first. */
export function encodeRankedJsonl(rows: RowSource<RankedRequest>, stats = newExportStats()): AsyncGenerator<Buffer> {
  return encodeLines(rows, rankedLine, stats);
}

export const VIDEOALIGN_HEADER = 'path_A,path_B,prompt,VQ,MQ,TA,overall';

/** VideoAlign's dimension columns and the rating dimensions they come from. */
export const VIDEOALIGN_DIMENSIONS: readonly (readonly [column: string, dimension: string])[] = [
  ['VQ', 'visual_quality'],
  ['MQ', 'motion_quality'],
  ['TA', 'text_alignment'],
];

export interface VideoAlignOptions {
  /**
   * 'chosen-first' (default): path_A is always the chosen video, so `overall` is `A` or `same`. 'balanced': A and B
   * are swapped on about half the rows, by the top bit of FNV-1a over chosen id, NUL, rejected id (deterministic), for
   * trainers that do not symmetrise their input.
   */
  abOrder?: 'chosen-first' | 'balanced';
  /** |chosen − rejected| mean rating ≤ this is `same` for a dimension. Default 0 (only equal ratings). */
  dimensionTieBand?: number;
}

/**
 * videoalign-csv, RFC 4180 (CRLF line ends, fields quoted when they hold a comma, quote, CR or LF), header
 * `path_A,path_B,prompt,VQ,MQ,TA,overall`. Always these seven columns, so every export of the format has the same
 * shape: VQ/MQ/TA are `A`, `B` or `same` when both videos have a mean rating for the dimension, else empty;
 * `overall` comes from the pair itself (`same` for a tie). Paths are URIs, or video ids where there is none.
 */
export function encodeVideoAlignCsv(
  rows: RowSource<PreferencePairRow>,
  options: VideoAlignOptions = {},
  stats = newExportStats(),
): AsyncGenerator<Buffer> {
  const balanced = (options.abOrder ?? 'chosen-first') === 'balanced';
  const band = options.dimensionTieBand ?? 0;
  if (!(band >= 0) || !Number.isFinite(band)) {
    throw new PreferencesError('INVALID_OPTIONS', 'dimensionTieBand: must be a finite number ≥ 0', { details: { option: 'dimensionTieBand' } });
  }
  return encodeLines(rows, (r) => {
    const swap = balanced && fnv1a(r.chosenId + '\u0000' + r.rejectedId) >>> 31 === 1;
    const chosen = csvField(videoRef(r.chosenUri, r.chosenId));
    const rejected = csvField(videoRef(r.rejectedUri, r.rejectedId));
    let line = swap ? `${rejected},${chosen},` : `${chosen},${rejected},`;
    line += csvField(r.prompt);
    for (const [, dimension] of VIDEOALIGN_DIMENSIONS) {
      const d = r.dimensions[dimension];
      line += ',';
      if (d === undefined) continue;
      const diff = exportNumber(d, `dimensions.${dimension}`);
      line += Math.abs(diff) <= band ? 'same' : (diff > 0) !== swap ? 'A' : 'B';
    }
    line += r.tie ? ',same\r\n' : swap ? ',B\r\n' : ',A\r\n';
    return line;
  }, stats, `${VIDEOALIGN_HEADER}\r\n`);
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
