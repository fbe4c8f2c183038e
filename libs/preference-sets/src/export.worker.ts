/**
 * Worker thread of the parallel export (parallel-export.ts): turns a batch of whole COPY rows into encoded lines or
 * into one parquet row group, straight from the bytes (copy-jsonl.ts, copy-parquet.ts). It imports the small
 * modules it needs by path, not the libs' indexes: those load typeorm and friends, ~200 ms and ~45 MB a worker.
 */
import { parentPort } from 'node:worker_threads';
import type { ResolvedParquetOptions } from '../../preferences/src/parquet.encoder';
import type { RowGroupMeta } from '../../preferences/src/parquet/flat-parquet';
import { encodePairLinesFromCopy } from './copy-jsonl';
import { encodePairRowGroupFromCopy } from './copy-parquet';

export type ParallelFormat = 'dpo-jsonl' | 'pairs-jsonl' | 'parquet';

export interface ExportTask {
  id: number;
  format: ParallelFormat;
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

parentPort?.on('message', ({ id, format, rows, parquet }: ExportTask) => {
  try {
    const input = Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength);
    if (format === 'parquet') {
      const { bytes, meta } = encodePairRowGroupFromCopy(input, parquet!);
      parentPort!.postMessage({ id, bytes, group: meta } satisfies ExportResult, [bytes.buffer as ArrayBuffer]);
    } else {
      const bytes = encodePairLinesFromCopy(input, format);
      parentPort!.postMessage({ id, bytes } satisfies ExportResult, [bytes.buffer as ArrayBuffer]);
    }
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message } satisfies ExportResult);
  }
});
