import { Worker } from 'node:worker_threads';
import { startWorkerThread } from '@flywheel/threads';
import type { ResolvedParquetOptions } from '../parquet.encoder';
import type { RowGroupMeta } from '../parquet/flat-parquet';

/** The formats the COPY byte path encodes (videoalign-csv and ranked-jsonl go through their row encoders). */
export type CopyExportFormat = 'dpo-jsonl' | 'pairs-jsonl' | 'parquet';

/** A batch for an export worker (export.worker.ts). */
export interface ExportTask {
  id: number;
  format: CopyExportFormat;
  /** UTF-8 COPY text of whole rows (transferred, not copied). */
  rows: Uint8Array;
  parquet?: ResolvedParquetOptions;
}

export interface ExportResult {
  id: number;
  bytes?: Uint8Array;
  /** parquet: the row group's metadata, offsets relative to its first byte. */
  group?: RowGroupMeta;
  error?: string;
}

/**
 * A thread running the export worker (export.worker.ts): the compiled script next to this module, or the
 * TypeScript source under ts-jest (@flywheel/threads). `script` replaces it (tests that make a worker fail).
 */
export function startExportWorker(script?: string): Worker {
  return script ? new Worker(script) : startWorkerThread(__dirname, 'export.worker');
}
