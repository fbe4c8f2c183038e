import type { RankedRequest } from './preference.types';
import { type ExportStats, type RowSource, encodeRankedJsonl, newExportStats } from './text-export.encoder';

export type PairExportFormat = 'dpo-jsonl' | 'pairs-jsonl' | 'videoalign-csv' | 'parquet';
export type RankingExportFormat = 'ranked-jsonl';
export type OutcomeExportFormat = 'kto-jsonl' | 'groups-jsonl';
export type ExportFormat = PairExportFormat | RankingExportFormat | OutcomeExportFormat;

export interface ExportFormatInfo {
  rows: 'pairs' | 'rankings' | 'outcomes';
  contentType: string;
  extension: string;
}

export const EXPORT_FORMATS: Readonly<Record<ExportFormat, ExportFormatInfo>> = Object.freeze({
  'dpo-jsonl': { rows: 'pairs', contentType: 'application/x-ndjson', extension: 'dpo.jsonl' },
  'pairs-jsonl': { rows: 'pairs', contentType: 'application/x-ndjson', extension: 'pairs.jsonl' },
  'videoalign-csv': { rows: 'pairs', contentType: 'text/csv; charset=utf-8; header=present', extension: 'videoalign.csv' },
  parquet: { rows: 'pairs', contentType: 'application/vnd.apache.parquet', extension: 'parquet' },
  'ranked-jsonl': { rows: 'rankings', contentType: 'application/x-ndjson', extension: 'ranked.jsonl' },
  'kto-jsonl': { rows: 'outcomes', contentType: 'application/x-ndjson', extension: 'kto.jsonl' },
  'groups-jsonl': { rows: 'outcomes', contentType: 'application/x-ndjson', extension: 'groups.jsonl' },
});

export const EXPORT_FORMAT_NAMES = Object.keys(EXPORT_FORMATS) as ExportFormat[];

export function isExportFormat(value: string): value is ExportFormat {
  return Object.prototype.hasOwnProperty.call(EXPORT_FORMATS, value);
}

export function encodeRankings(rows: RowSource<RankedRequest>, stats: ExportStats = newExportStats()): AsyncGenerator<Buffer> {
  return encodeRankedJsonl(rows, stats);
}
