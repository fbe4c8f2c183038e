/**
 * Worker thread of the parallel export (parallel-export.ts): turns a batch of whole COPY rows into encoded lines or
 * into one parquet row group. It imports the small modules it needs by path, not the libs' indexes: those load
 * typeorm and friends, ~200 ms and ~45 MB a worker.
 */
import { parentPort } from 'node:worker_threads';
import { copyTextRows } from '../../database/src/copy-text';
import { pairFromCopyFields } from '../../database/src/preference-sets.repository';
import { canonicalPairLine, dpoLine } from '../../preferences/src/canonical-encoding';
import type { ResolvedParquetOptions } from '../../preferences/src/parquet.encoder';
import type { RowGroupMeta } from '../../preferences/src/parquet/flat-parquet';
import type { PreferencePairRow } from '../../preferences/src/preference.types';
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

function* pairRows(rows: Uint8Array): Generator<PreferencePairRow> {
  const text = Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength).toString('utf8');
  for (const fields of copyTextRows(text)) {
    const { seq: _seq, ...row } = pairFromCopyFields(fields);
    yield row;
  }
}

parentPort?.on('message', ({ id, format, rows, parquet }: ExportTask) => {
  try {
    if (format === 'parquet') {
      const { bytes, meta } = encodePairRowGroupFromCopy(Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength), parquet!);
      parentPort!.postMessage({ id, bytes, group: meta } satisfies ExportResult, [bytes.buffer as ArrayBuffer]);
      return;
    }
    let out = '';
    for (const row of pairRows(rows)) {
      if (format === 'pairs-jsonl') out += canonicalPairLine(row);
      else if (!row.tie) out += dpoLine(row); // DPO has no ties (as encodeDpoJsonl)
    }
    // Its own ArrayBuffer (Buffer.from of a short string would be a slice of Node's shared pool: not transferable).
    const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(out, 'utf8'));
    bytes.write(out, 0, 'utf8');
    parentPort!.postMessage({ id, bytes } satisfies ExportResult, [bytes.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message } satisfies ExportResult);
  }
});
