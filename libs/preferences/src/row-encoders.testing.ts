/**
 * The row path of the pair formats: rows in memory → dpo-jsonl, pairs-jsonl, parquet. Production encodes these
 * formats from COPY bytes only (copy/copy-jsonl.ts, copy/copy-parquet.ts); this independent, plainer encoder is the
 * specs' and the integration test's oracle: the byte path must write exactly what it writes. Imported by tests
 * through `@flywheel/preferences/testing`, never by production code.
 */
import { canonicalPairLine, exportNumber, videoRef } from './canonical-encoding';
import { EXPORT_FORMATS, type PairExportFormat } from './export-formats';
import { MissingValueError, RowGroupBuffers, type RowGroupWriter } from './parquet/flat-parquet';
import { type ParquetExportOptions, pairParquetLayout, pairRowGroupWriter, resolveParquetOptions } from './parquet.encoder';
import type { PreferencePairRow } from './preference.types';
import { PreferencesError } from './preferences.errors';
import { sha256Hex } from './content-hash';
import { type ExportStats, type RowSource, driveRows, encodeLines, newExportStats } from './text-export.encoder';
import { type VideoAlignOptions, encodeVideoAlignCsv } from './trainer-export.encoder';

const json = JSON.stringify;

function jsonNullable(s: string | null): string {
  return s === null ? 'null' : json(s);
}

/**
 * One dpo-jsonl line (with its newline). Keys in this order: prompt, chosen, rejected, margin, weight, source, split,
 * chosen_video_id, rejected_video_id, request_id, model_version.
 */
export function dpoLine(r: PreferencePairRow): string {
  return `{"prompt":${json(r.prompt)},"chosen":${json(videoRef(r.chosenUri, r.chosenId))},"rejected":${json(videoRef(r.rejectedUri, r.rejectedId))},"margin":${exportNumber(r.margin, 'margin')},"weight":${exportNumber(r.weight, 'weight')},"source":${json(r.source)},"split":${json(r.split)},"chosen_video_id":${json(r.chosenId)},"rejected_video_id":${json(r.rejectedId)},"request_id":${jsonNullable(r.requestId)},"model_version":${jsonNullable(r.modelVersion)}}\n`;
}

/**
 * dpo-jsonl: one preference per line, for TRL / Diffusion-DPO style trainers (`prompt`, `chosen`, `rejected`;
 * TRL's reward trainer also reads `margin`). `chosen`/`rejected` are video URIs, or video ids where there is none.
 *
 * Ties are skipped (and counted in stats.skippedTies): DPO's loss has no tie outcome, and a tie written with
 * margin 0 would still be trained as "chosen beats rejected" in an arbitrary direction. Ties are kept in
 * pairs-jsonl, videoalign-csv (`same`) and parquet (`tie` column).
 */
export function encodeDpoJsonl(rows: RowSource<PreferencePairRow>, stats = newExportStats()): AsyncGenerator<Buffer> {
  return encodeLines(rows, (r) => {
    if (r.tie) {
      stats.skippedTies++;
      return null;
    }
    return dpoLine(r);
  }, stats);
}

/** pairs-jsonl: every column of every row, ties included; the canonical encoding (see canonicalPairLine). */
export function encodePairsJsonl(rows: RowSource<PreferencePairRow>, stats = newExportStats()): AsyncGenerator<Buffer> {
  return encodeLines(rows, canonicalPairLine, stats);
}

function appendRow(group: RowGroupWriter<PreferencePairRow>, row: PreferencePairRow): void {
  try {
    group.append(row);
  } catch (error) {
    if (error instanceof MissingValueError) {
      throw new PreferencesError('INVALID_ROW', error.message, { details: { field: error.column } });
    }
    throw error;
  }
}

/**
 * parquet: every pair row (ties included, `tie` column), PLAIN-encoded v1 data pages, Snappy by default, written by
 * the flat-schema writer in ./parquet (why not a library: see libs/preferences/README.md). Each row group is
 * yielded as soon as it is full, so memory stays about one row group whatever the number of rows.
 *
 * Bytes are a pure function of the rows and options: the file embeds no time or randomness (created_by is
 * PARQUET_CREATED_BY, key-value metadata is PARQUET_SCHEMA_ID only, statistics follow row order).
 */
export async function* encodeParquet(
  rows: RowSource<PreferencePairRow>,
  options: ParquetExportOptions = {},
  stats: ExportStats = newExportStats(),
): AsyncGenerator<Buffer> {
  const resolved = resolveParquetOptions(options);
  const layout = pairParquetLayout(resolved);
  const emit = (buf: Buffer): Buffer => {
    stats.bytes += buf.length;
    return buf;
  };
  yield emit(layout.header());
  const buffers = new RowGroupBuffers();
  let group = pairRowGroupWriter(resolved, buffers);
  const add = (row: PreferencePairRow): Buffer | null => {
    stats.rows++;
    appendRow(group, row);
    stats.written++;
    if (group.rowCount < resolved.rowGroupSize) return null;
    const { bytes, meta } = group.finish();
    layout.add(meta);
    group = pairRowGroupWriter(resolved, buffers);
    return emit(bytes);
  };
  yield* driveRows(rows, add);
  if (group.rowCount > 0) {
    const { bytes, meta } = group.finish();
    layout.add(meta);
    yield emit(bytes);
  }
  yield emit(layout.footer());
}

export interface PairExportOptions {
  videoAlign?: VideoAlignOptions;
  parquet?: ParquetExportOptions;
}

/** Encodes pair rows in one of the pair formats, from rows: the oracle (videoalign-csv is production's own encoder). */
export function encodePairs(
  format: PairExportFormat,
  rows: RowSource<PreferencePairRow>,
  options: PairExportOptions = {},
  stats: ExportStats = newExportStats(),
): AsyncGenerator<Buffer> {
  switch (format) {
    case 'dpo-jsonl':
      return encodeDpoJsonl(rows, stats);
    case 'pairs-jsonl':
      return encodePairsJsonl(rows, stats);
    case 'videoalign-csv':
      return encodeVideoAlignCsv(rows, options.videoAlign, stats);
    case 'parquet':
      return encodeParquet(rows, options.parquet, stats);
    default:
      throw new PreferencesError('UNKNOWN_FORMAT', `unknown pair export format '${String(format)}'`, {
        details: { format, known: Object.keys(EXPORT_FORMATS) },
      });
  }
}


/** sha256 of the rows' pairs-jsonl (what a set's content hash takes over its stored pairs' export). */
export function pairRowsSha256(rows: RowSource<PreferencePairRow>): Promise<string> {
  return sha256Hex(encodePairsJsonl(rows));
}
