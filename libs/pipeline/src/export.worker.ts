/**
 * Worker thread of the parallel export (parallel-export.ts): turns whole-row chunks of COPY text into encoded
 * lines. It imports the two small modules it needs by path, not the libs' indexes: those load typeorm and the
 * parquet writer, ~200 ms and ~45 MB a worker.
 */
import { parentPort } from 'node:worker_threads';
import { copyTextRows } from '../../database/src/copy-text';
import { pairFromCopyFields } from '../../database/src/preference-sets.repository';
import { canonicalPairLine, dpoLine } from '../../preferences/src/canonical-encoding';

export interface ExportTask {
  id: number;
  format: 'dpo-jsonl' | 'pairs-jsonl';
  text: string;
}

parentPort?.on('message', ({ id, format, text }: ExportTask) => {
  try {
    let out = '';
    for (const fields of copyTextRows(text)) {
      const row = pairFromCopyFields(fields);
      if (format === 'pairs-jsonl') out += canonicalPairLine(row);
      else if (!row.tie) out += dpoLine(row); // DPO has no ties (as encodeDpoJsonl)
    }
    const bytes = Buffer.from(out, 'utf8');
    parentPort!.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message });
  }
});
