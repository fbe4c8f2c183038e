/**
 * Worker thread of the parallel export (libs/preference-sets, parallel-export.ts): turns a batch of whole COPY rows
 * into encoded lines or into one parquet row group, straight from the bytes (copy-jsonl.ts, copy-parquet.ts). It
 * loads only this lib's small byte-path modules, no driver (typeorm would cost ~200 ms and ~45 MB a worker).
 */
import { parentPort } from 'node:worker_threads';
import { encodePairLinesFromCopy } from './copy-jsonl';
import { encodePairRowGroupFromCopy } from './copy-parquet';
import type { ExportResult, ExportTask } from './export-worker-thread';

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
