import type { FieldDefinition, PageData, ParquetCompression, ParquetSchema, ParquetWriter } from '@dsnp/parquetjs';
import type { WriteStream } from 'node:fs';
import { dimensionsJson, exportNumber, videoRef } from './canonical-encoding';
import type { PreferencePairRow } from './preference.types';
import { PreferencesError } from './preferences.errors';
import { type ExportStats, type RowSource, isPage, isSyncIterable, newExportStats } from './text-export.encoder';

export interface ParquetExportOptions {
  /**
   * Default 'SNAPPY' (what pandas/pyarrow write by default; snappyjs is pure JS, so output is deterministic). GZIP is
   * left out on purpose: the independent reader the round-trip test uses (hyparquet) does not decode it without a plugin.
   */
  compression?: 'UNCOMPRESSED' | 'SNAPPY';
  /** Rows per row group, rounded up to whole pages: memory holds about one row group. Default 32,768. */
  rowGroupSize?: number;
  /** Rows per data page. Default 8,192. */
  pageSize?: number;
  /**
   * 'flat' (default): rows are shredded by this module (see encodeParquet). 'library': every row goes through the
   * writer's appendRow; slower, same bytes (the spec holds the two to that).
   */
  shredder?: 'flat' | 'library';
}

/** Key-value metadata in the footer: names the column layout, so readers can check what they got. */
export const PARQUET_SCHEMA_ID = 'flywheel.preference-pairs.v1';

interface ParquetColumn {
  name: string;
  type: 'UTF8' | 'DOUBLE' | 'BOOLEAN';
  optional: boolean;
  /** Min/max statistics, kept for low-cardinality and numeric columns (filters on split, scope, margin…). */
  statistics: boolean;
  value: (r: PreferencePairRow) => string | number | boolean | null;
}

/**
 * The columns, in file order. `chosen`/`rejected` are what dpo-jsonl writes (URI, else video id); the raw URIs are
 * there too (null without one). `margin` and `weight` pass through exportNumber like every other format;
 * `dimensions` is the canonical JSON of chosen − rejected mean ratings (see dimensionsJson).
 */
const COLUMNS: readonly ParquetColumn[] = [
  { name: 'prompt', type: 'UTF8', optional: false, statistics: false, value: (r) => r.prompt },
  { name: 'chosen', type: 'UTF8', optional: false, statistics: false, value: (r) => videoRef(r.chosenUri, r.chosenId) },
  { name: 'rejected', type: 'UTF8', optional: false, statistics: false, value: (r) => videoRef(r.rejectedUri, r.rejectedId) },
  { name: 'chosen_video_id', type: 'UTF8', optional: false, statistics: false, value: (r) => r.chosenId },
  { name: 'rejected_video_id', type: 'UTF8', optional: false, statistics: false, value: (r) => r.rejectedId },
  { name: 'chosen_uri', type: 'UTF8', optional: true, statistics: false, value: (r) => r.chosenUri },
  { name: 'rejected_uri', type: 'UTF8', optional: true, statistics: false, value: (r) => r.rejectedUri },
  { name: 'request_id', type: 'UTF8', optional: true, statistics: false, value: (r) => r.requestId },
  { name: 'model_version', type: 'UTF8', optional: true, statistics: true, value: (r) => r.modelVersion },
  { name: 'margin', type: 'DOUBLE', optional: false, statistics: true, value: (r) => exportNumber(r.margin, 'margin') },
  { name: 'weight', type: 'DOUBLE', optional: false, statistics: true, value: (r) => exportNumber(r.weight, 'weight') },
  { name: 'tie', type: 'BOOLEAN', optional: false, statistics: true, value: (r) => r.tie },
  { name: 'scope', type: 'UTF8', optional: false, statistics: true, value: (r) => r.scope },
  { name: 'group_key', type: 'UTF8', optional: false, statistics: false, value: (r) => r.groupKey },
  { name: 'split', type: 'UTF8', optional: false, statistics: true, value: (r) => r.split },
  { name: 'source', type: 'UTF8', optional: false, statistics: true, value: (r) => r.source },
  { name: 'dimensions', type: 'UTF8', optional: false, statistics: false, value: (r) => dimensionsJson(r.dimensions) },
];

export const PARQUET_PAIR_COLUMNS: readonly string[] = COLUMNS.map((c) => c.name);

// Loaded on first use: importing this library (for pairs or text formats) should not load a parquet stack.
type ParquetModule = typeof import('@dsnp/parquetjs');
let parquetModule: Promise<ParquetModule> | undefined;
function loadParquet(): Promise<ParquetModule> {
  return (parquetModule ??= import('@dsnp/parquetjs'));
}

export async function pairParquetSchema(compression: ParquetCompression = 'SNAPPY'): Promise<ParquetSchema> {
  const { ParquetSchema } = await loadParquet();
  const fields: Record<string, FieldDefinition> = {};
  for (const c of COLUMNS) {
    fields[c.name] = { type: c.type, compression, optional: c.optional, ...(c.statistics ? {} : { statistics: false }) };
  }
  return new ParquetSchema(fields);
}

/**
 * parquet: every pair row (ties included, `tie` column), PLAIN-encoded v2 data pages, written with @dsnp/parquetjs.
 * Each finished row group is yielded as soon as it is encoded, so memory stays about one row group whatever the
 * number of rows.
 *
 * Speed: the writer's appendRow shreds each row through its general (nested-schema) shredder, which allocates a Set
 * and four arrays per column per row — about 35k rows/s and a churning heap. This schema is flat, so rows are
 * shredded here straight into the writer's RecordBuffer, in the layout the library documents for shredRecord
 * (per column: values, rlevels, dlevels, count, distinct_values); only the last row of each page goes through
 * appendRow, which then encodes the page and, when the row group is full, writes it. Row groups hold whole pages.
 *
 * Bytes are a pure function of the rows and options for a given @dsnp/parquetjs version (pinned exactly in
 * package.json): the writer embeds no time or randomness (created_by is the constant '@dsnp/parquetjs', key-value
 * metadata is PARQUET_SCHEMA_ID only, statistics follow row order). Another library version may encode differently,
 * so the content hash of a preference set is taken over pairs-jsonl, not over parquet bytes.
 */
export async function* encodeParquet(
  rows: RowSource<PreferencePairRow>,
  options: ParquetExportOptions = {},
  stats: ExportStats = newExportStats(),
): AsyncGenerator<Buffer> {
  const compression = options.compression ?? 'SNAPPY';
  if (compression !== 'SNAPPY' && compression !== 'UNCOMPRESSED') {
    throw new PreferencesError('INVALID_OPTIONS', "compression: must be 'SNAPPY' or 'UNCOMPRESSED'", { details: { option: 'compression' } });
  }
  const rowGroupSize = positiveInt('rowGroupSize', options.rowGroupSize ?? 32_768);
  const pageSize = Math.min(positiveInt('pageSize', options.pageSize ?? 8_192), rowGroupSize);
  const chunks: Buffer[] = [];
  // The writer awaits each write's callback: calling it at once turns the writer into a producer of chunks that
  // this generator hands on, and the consumer's pace is the backpressure.
  const sink = {
    write(buf: Buffer, callback: (err?: Error | null) => void): boolean {
      chunks.push(buf);
      callback();
      return true;
    },
    end(callback: (err?: Error | null) => void): void {
      callback();
    },
  };
  const { ParquetWriter } = await loadParquet();
  const schema = await pairParquetSchema(compression);
  const writer = await ParquetWriter.openStream(schema, sink as unknown as WriteStream, {
    rowGroupSize: Math.ceil(rowGroupSize / pageSize) * pageSize, pageSize, useDataPageV2: true,
  });
  writer.setMetadata('flywheel.schema', PARQUET_SCHEMA_ID);
  const drain = function* (): Generator<Buffer> {
    for (const buf of chunks) {
      stats.bytes += buf.length;
      yield buf;
    }
    chunks.length = 0;
  };
  const flat = (options.shredder ?? 'flat') === 'flat';
  let pageRows = 0;
  // Returns a promise only when the row ends a page (the writer then encodes it): no await per row otherwise.
  const add = (row: PreferencePairRow): Promise<void> | undefined => {
    stats.rows++;
    if (flat && pageRows < pageSize - 1) {
      shredInto(writer, row);
      pageRows++;
      stats.written++;
      return undefined;
    }
    const record = parquetRecord(row);
    pageRows = 0;
    stats.written++;
    return writer.appendRow(record);
  };
  if (isSyncIterable(rows)) {
    for (const row of rows) {
      const pending = add(row);
      if (pending) await pending;
      if (chunks.length > 0) yield* drain();
    }
  } else {
    for await (const item of rows) {
      for (const row of isPage(item) ? item : [item]) {
        const pending = add(row);
        if (pending) await pending;
        if (chunks.length > 0) yield* drain();
      }
    }
  }
  await writer.close();
  yield* drain();
}

/** Appends one row to the writer's RecordBuffer, exactly as shredRecord would for this flat schema. */
function shredInto(writer: ParquetWriter, row: PreferencePairRow): void {
  const buffer = writer.rowBuffer;
  if (buffer.columnData === undefined || buffer.rowCount === undefined || buffer.pages === undefined) {
    buffer.rowCount = 0;
    buffer.pageRowCount = 0;
    buffer.columnData = {};
    buffer.pages = {};
    for (const c of COLUMNS) {
      buffer.columnData[c.name] = { dlevels: [], rlevels: [], values: [], distinct_values: new Set(), count: 0 };
      buffer.pages[c.name] = [];
    }
  }
  const columnData = buffer.columnData;
  // Compute and check every value first, so a row that fails leaves the buffer untouched.
  const values = COLUMNS.map((c) => c.value(row));
  for (let i = 0; i < COLUMNS.length; i++) {
    if (values[i] === null && !COLUMNS[i].optional) {
      throw new PreferencesError('INVALID_ROW', `missing required parquet column ${COLUMNS[i].name}`, { details: { field: COLUMNS[i].name } });
    }
  }
  for (let i = 0; i < COLUMNS.length; i++) {
    const c = COLUMNS[i];
    const v = values[i];
    const data = columnData[c.name] as Required<Pick<PageData, 'dlevels' | 'rlevels' | 'distinct_values'>> & { values: unknown[]; count: number };
    data.rlevels.push(0);
    data.count++;
    if (v === null) {
      data.dlevels.push(0);
      continue;
    }
    data.dlevels.push(c.optional ? 1 : 0);
    // Strings stay strings: the PLAIN encoder UTF-8-encodes each value once when the page is written.
    data.values.push(v);
    if (c.statistics) data.distinct_values.add(v);
  }
  buffer.rowCount! += 1;
  buffer.pageRowCount = (buffer.pageRowCount ?? 0) + 1;
}

function parquetRecord(r: PreferencePairRow): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const c of COLUMNS) record[c.name] = c.value(r);
  return record;
}

function positiveInt(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new PreferencesError('INVALID_OPTIONS', `${option}: must be an integer ≥ 1`, { details: { option } });
  }
  return value;
}
