import { type ParquetExportOptions, encodeParquet } from './parquet.encoder';
import type { PreferencePairRow, RankedRequest } from './preference.types';
import { PreferencesError } from './preferences.errors';
import {
  type ExportStats, type RowSource, type VideoAlignOptions, encodeDpoJsonl, encodePairsJsonl, encodeRankedJsonl,
  encodeVideoAlignCsv, newExportStats,
} from './text-export.encoder';

export type PairExportFormat = 'dpo-jsonl' | 'pairs-jsonl' | 'videoalign-csv' | 'parquet';
export type RankingExportFormat = 'ranked-jsonl';
export type ExportFormat = PairExportFormat | RankingExportFormat;

export interface ExportFormatInfo {
  rows: 'pairs' | 'rankings';
  contentType: string;
  extension: string;
}

export const EXPORT_FORMATS: Readonly<Record<ExportFormat, ExportFormatInfo>> = Object.freeze({
  'dpo-jsonl': { rows: 'pairs', contentType: 'application/x-ndjson', extension: 'dpo.jsonl' },
  'pairs-jsonl': { rows: 'pairs', contentType: 'application/x-ndjson', extension: 'pairs.jsonl' },
  'videoalign-csv': { rows: 'pairs', contentType: 'text/csv; charset=utf-8; header=present', extension: 'videoalign.csv' },
  parquet: { rows: 'pairs', contentType: 'application/vnd.apache.parquet', extension: 'parquet' },
  'ranked-jsonl': { rows: 'rankings', contentType: 'application/x-ndjson', extension: 'ranked.jsonl' },
});

export function isExportFormat(value: string): value is ExportFormat {
  return Object.prototype.hasOwnProperty.call(EXPORT_FORMATS, value);
}

export interface PairExportOptions {
  videoAlign?: VideoAlignOptions;
  parquet?: ParquetExportOptions;
}

/** Encodes pair rows in one of the pair formats (ranked-jsonl takes rankings: use encodeRankedJsonl). */
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

export function encodeRankings(rows: RowSource<RankedRequest>, stats: ExportStats = newExportStats()): AsyncGenerator<Buffer> {
  return encodeRankedJsonl(rows, stats);
}
