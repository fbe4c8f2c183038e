import type { FieldDefinition, ParquetCompression, ParquetSchema } from '@dsnp/parquetjs';
import type { WriteStream } from 'node:fs';
import { dimensionsJson, exportNumber, videoRef } from './canonical-encoding';
import type { PreferencePairRow } from './preference.types';
import { PreferencesError } from './preferences.errors';
import { type ExportStats, type RowSource, newExportStats } from './text-export.encoder';

export interface ParquetExportOptions {
  /**
   * Default 'SNAPPY' (what pandas/pyarrow write by default; snappyjs is pure JS, so output is deterministic). GZIP is
   * left out on purpose: the independent reader the round-trip test uses (hyparquet) does not decode it without a plugin.
   */
  compression?: 'UNCOMPRESSED' | 'SNAPPY';
  /** Rows per row group: memory holds about one row group. Default 32,768. */
  rowGroupSize?: number;
  /** Rows per data page. Default 8,192. */
  pageSize?: number;
}

/** Key-value metadata in the footer: names the column layout, so readers can check what they got. */
export const PARQUET_SCHEMA_ID = 'flywheel.preference-pairs.v1';

/**
 * The columns, in file order. `chosen`/`rejected` are what dpo-jsonl writes (URI, else video id); the raw URIs are
 * there too (null without one). `margin` and `weight` pass through exportNumber like every other format;
 * `dimensions` is the canonical JSON of chosen − rejected mean ratings (see dimensionsJson).
 */
export const PARQUET_PAIR_COLUMNS = [
  'prompt', 'chosen', 'rejected', 'chosen_video_id', 'rejected_video_id', 'chosen_uri', 'rejected_uri', 'request_id',
  'model_version', 'margin', 'weight', 'tie', 'scope', 'group_key', 'split', 'source', 'dimensions',
] as const;

// Loaded on first use: importing this library (for pairs or text formats) should not load a parquet stack.
type ParquetModule = typeof import('@dsnp/parquetjs');
let parquetModule: Promise<ParquetModule> | undefined;
function loadParquet(): Promise<ParquetModule> {
  return (parquetModule ??= import('@dsnp/parquetjs'));
}

export async function pairParquetSchema(compression: ParquetCompression = 'SNAPPY'): Promise<ParquetSchema> {
  const { ParquetSchema } = await loadParquet();
  const text = (optional = false): FieldDefinition => ({ type: 'UTF8', compression, optional });
  const double: FieldDefinition = { type: 'DOUBLE', compression };
  return new ParquetSchema({
    prompt: text(), chosen: text(), rejected: text(), chosen_video_id: text(), rejected_video_id: text(),
    chosen_uri: text(true), rejected_uri: text(true), request_id: text(true), model_version: text(true),
    margin: double, weight: double, tie: { type: 'BOOLEAN', compression },
    scope: text(), group_key: text(), split: text(), source: text(), dimensions: text(),
  });
}

/**
 * parquet: every pair row (ties included, `tie` column), written with @dsnp/parquetjs in row groups of
 * `rowGroupSize` rows; each finished row group is yielded as it is encoded, so memory stays about one row group
 * whatever the number of rows.
 *
 * Bytes are a pure function of the rows and options for a given @dsnp/parquetjs version: the writer embeds no
 * time or randomness (created_by is the constant '@dsnp/parquetjs', key-value metadata is PARQUET_SCHEMA_ID only,
 * statistics follow row order). A different library version may encode differently, so the content hash of a
 * preference set is taken over pairs-jsonl, not over parquet bytes.
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
  const pageSize = positiveInt('pageSize', options.pageSize ?? 8_192);
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
    rowGroupSize, pageSize, useDataPageV2: true,
  });
  writer.setMetadata('flywheel.schema', PARQUET_SCHEMA_ID);
  const drain = function* (): Generator<Buffer> {
    for (const buf of chunks) {
      stats.bytes += buf.length;
      yield buf;
    }
    chunks.length = 0;
  };
  for await (const row of rows) {
    stats.rows++;
    await writer.appendRow(parquetRecord(row));
    stats.written++;
    if (chunks.length > 0) yield* drain();
  }
  await writer.close();
  yield* drain();
}

function parquetRecord(r: PreferencePairRow): Record<string, unknown> {
  return {
    prompt: r.prompt,
    chosen: videoRef(r.chosenUri, r.chosenId),
    rejected: videoRef(r.rejectedUri, r.rejectedId),
    chosen_video_id: r.chosenId,
    rejected_video_id: r.rejectedId,
    chosen_uri: r.chosenUri,
    rejected_uri: r.rejectedUri,
    request_id: r.requestId,
    model_version: r.modelVersion,
    margin: exportNumber(r.margin, 'margin'),
    weight: exportNumber(r.weight, 'weight'),
    tie: r.tie,
    scope: r.scope,
    group_key: r.groupKey,
    split: r.split,
    source: r.source,
    dimensions: dimensionsJson(r.dimensions),
  };
}

function positiveInt(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new PreferencesError('INVALID_OPTIONS', `${option}: must be an integer ≥ 1`, { details: { option } });
  }
  return value;
}
