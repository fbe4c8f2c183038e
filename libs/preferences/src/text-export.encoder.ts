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
  /** Rows the format cannot carry as they are: ties in dpo-jsonl, neutral outcomes in kto-jsonl. */
  skippedTies: number;
  /** videoalign-csv: pairs with no label in any of its label columns (VideoAlign would mask every one of them). */
  skippedUnlabelled: number;
  /** groups-jsonl: groups with fewer candidates than minGroupSize (no relative reward to learn from). */
  skippedSmallGroups: number;
  bytes: number;
}

export function newExportStats(): ExportStats {
  return { rows: 0, written: 0, skippedTies: 0, skippedUnlabelled: 0, skippedSmallGroups: 0, bytes: 0 };
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

