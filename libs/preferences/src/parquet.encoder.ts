import { dimensionsJson, exportNumber, videoRef } from './canonical-encoding';
import { type FlatColumn, type ParquetCodec, ParquetFileLayout, type RowGroupBuffers, RowGroupWriter } from './parquet/flat-parquet';
import type { PreferencePairRow } from './preference.types';
import { PreferencesError } from './preferences.errors';

export interface ParquetExportOptions {
  /**
   * Default 'SNAPPY' (what pandas/pyarrow write by default). GZIP is left out on purpose: the independent reader
   * the round-trip test uses (hyparquet) does not decode it without a plugin.
   */
  compression?: ParquetCodec;
  /**
   * Rows per row group: memory holds about one row group per encoding thread. Default 16,384 (~2.5 MB at ~160
   * bytes a pair): at 32,768 the parallel export peaked ~45 MB higher at the same speed (bench:export).
   */
  rowGroupSize?: number;
  /** Rows per data page. Default 8,192. */
  pageSize?: number;
}

/** Key-value metadata in the footer: names the column layout, so readers can check what they got. */
export const PARQUET_SCHEMA_ID = 'flywheel.preference-pairs.v1';
/** `created_by` in the footer. Changes when the writer's output changes, so the bytes can be traced to it. */
export const PARQUET_CREATED_BY = 'flywheel parquet writer 1';

/**
 * The columns, in file order. `chosen`/`rejected` are what dpo-jsonl writes (URI, else video id); the raw URIs are
 * there too (null without one). `margin` and `weight` pass through exportNumber like every other format;
 * `dimensions` is the canonical JSON of chosen − rejected mean ratings (see dimensionsJson). Statistics (min/max)
 * are kept for low-cardinality and numeric columns (filters on split, scope, margin…).
 */
const COLUMNS: readonly FlatColumn<PreferencePairRow>[] = [
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

export interface ResolvedParquetOptions {
  compression: ParquetCodec;
  rowGroupSize: number;
  pageSize: number;
}

/** Checks the options and fills in defaults; a bad one is an INVALID_OPTIONS error naming it. */
export function resolveParquetOptions(options: ParquetExportOptions = {}): ResolvedParquetOptions {
  const compression = options.compression ?? 'SNAPPY';
  if (compression !== 'SNAPPY' && compression !== 'UNCOMPRESSED') {
    throw new PreferencesError('INVALID_OPTIONS', "compression: must be 'SNAPPY' or 'UNCOMPRESSED'", { details: { option: 'compression' } });
  }
  const rowGroupSize = positiveInt('rowGroupSize', options.rowGroupSize ?? 16_384);
  const pageSize = Math.min(positiveInt('pageSize', options.pageSize ?? 8_192), rowGroupSize);
  return { compression, rowGroupSize, pageSize };
}

/** A pair file's layout: header, then row groups as they are added, then footer. */
export function pairParquetLayout(options: ResolvedParquetOptions): ParquetFileLayout {
  return new ParquetFileLayout(COLUMNS, options.compression, { 'flywheel.schema': PARQUET_SCHEMA_ID }, PARQUET_CREATED_BY);
}

/** An empty row group of pair columns (PARQUET_PAIR_COLUMNS order), for writers that fill columns themselves. */
export function pairRowGroupWriter(options: ResolvedParquetOptions, buffers?: RowGroupBuffers): RowGroupWriter<PreferencePairRow> {
  return new RowGroupWriter(COLUMNS, options, buffers);
}

function positiveInt(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new PreferencesError('INVALID_OPTIONS', `${option}: must be an integer ≥ 1`, { details: { option } });
  }
  return value;
}
