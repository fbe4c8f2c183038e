import { canonicalPairLine } from '../canonical-encoding';
import { pairParquetLayout, resolveParquetOptions } from '../parquet.encoder';
import type { PreferencePairRow } from '../preference.types';
import { dpoLine, encodeParquet } from '../row-encoders.testing';
import { encodePairLinesFromCopy } from './copy-jsonl';
import { encodePairRowGroupFromCopy } from './copy-parquet';
import { copyTextRows } from './copy-text';
import { type ExportResult, type ExportTask, startExportWorker } from './export-worker-thread';
import { pairFromCopyFields } from './pair-copy-row';

/**
 * The parallel export's byte paths (COPY bytes → lines / row groups) against the row path (COPY text → rows →
 * encoders) on rows built to be awkward: every escape COPY writes, JSON's control characters, multi-byte UTF-8,
 * nulls, numbers in every text form PostgreSQL may print.
 */

/** PostgreSQL's COPY text escaping of one value (COPY TO writes these six control escapes and `\\`). */
function copyEscape(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/[\\\b\f\n\r\t\v]/g, (c) => ({ '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' })[c]!);
}

const PIECES = ['a', 'cat', ' ', '"', '\\', '\n', '\t', '\r', '\b', '\f', '\v', '\x01', '\x1f', '\x7f', 'é', '—', '🐈', '\u2028', '猫', ',', '\\N', '{}'];
const NUMBERS = ['0.25', '1', '-0', '0', '1e-05', '3.4028235e+38', '0.12345679', '-2.5', '0.1000000014901161193847656', '123456.7', '0.0000005', '7.5e-7'];

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

function copyRows(count: number, seed: number): string {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const str = (max: number) => Array.from({ length: 1 + Math.floor(random() * max) }, () => pick(PIECES)).join('');
  const maybe = (s: string) => (random() < 0.3 ? null : s);
  let text = '';
  for (let i = 0; i < count; i++) {
    const dims = random() < 0.5 ? '{}' : `{${JSON.stringify(pick(['visual_quality', 'ü', 'a"b']))}: ${pick(NUMBERS)}, "motion_quality": ${pick(NUMBERS)}}`;
    const fields = [
      String(i), `v${i}${str(3)}`, `w${i}`, maybe(`s3://b/${str(4)}`), maybe(`s3://c/${i}`), str(12), maybe(`r${i % 7}${str(2)}`),
      maybe(pick(['gen-1', 'gen-2', 'génération', '🐈'])), pick(NUMBERS), pick(NUMBERS), random() < 0.2 ? 't' : 'f',
      pick(['request', 'prompt', 'session']), `request:${str(3)}`, pick(['train', 'validation', 'test']),
      pick(['observed', 'reward_model']), dims,
    ];
    text += `${fields.map(copyEscape).join('\t')}\n`;
  }
  return text;
}

function rowsOf(text: string): PreferencePairRow[] {
  return copyTextRows(text).map((f) => {
    const { seq: _seq, ...row } = pairFromCopyFields(f);
    return row;
  });
}

describe('export byte paths (COPY bytes → output) match the row path', () => {
  const text = copyRows(3000, 7);
  const bytes = Buffer.from(text, 'utf8');
  const rows = rowsOf(text);

  it('the test rows cover what they should', () => {
    expect(text).toContain('\\\\');
    expect(text).toContain('\\v');
    expect(rows.some((r) => r.prompt.includes('\x01') && r.prompt.includes('"'))).toBe(true);
    expect(rows.some((r) => r.chosenUri === null) && rows.some((r) => r.modelVersion === null)).toBe(true);
    expect(rows.some((r) => r.tie) && rows.some((r) => Object.keys(r.dimensions).length > 0)).toBe(true);
  });

  it('writes dpo-jsonl and pairs-jsonl byte for byte as dpoLine / canonicalPairLine', () => {
    const dpo = rows.filter((r) => !r.tie).map(dpoLine).join('');
    expect(encodePairLinesFromCopy(bytes, 'dpo-jsonl').toString('utf8')).toBe(dpo);
    expect(encodePairLinesFromCopy(bytes, 'pairs-jsonl').toString('utf8')).toBe(rows.map(canonicalPairLine).join(''));
    // and what it writes is JSON that reads back as the rows' values
    const first = JSON.parse(encodePairLinesFromCopy(bytes, 'pairs-jsonl').toString('utf8').split('\n')[0]);
    expect(first).toMatchObject({ prompt: rows[0].prompt, chosen_uri: rows[0].chosenUri, tie: rows[0].tie });
  });

  it('writes parquet row groups byte for byte as encodeParquet', async () => {
    for (const options of [{}, { compression: 'UNCOMPRESSED' as const, rowGroupSize: 1000, pageSize: 300 }, { rowGroupSize: 999, pageSize: 1 }]) {
      const resolved = resolveParquetOptions(options);
      const expected: Buffer[] = [];
      for await (const chunk of encodeParquet(rows, options)) expected.push(chunk);
      const layout = pairParquetLayout(resolved);
      const actual = [layout.header()];
      const lines = text.split('\n').slice(0, -1);
      for (let i = 0; i < rows.length; i += resolved.rowGroupSize) {
        const group = encodePairRowGroupFromCopy(Buffer.from(`${lines.slice(i, i + resolved.rowGroupSize).join('\n')}\n`, 'utf8'), resolved);
        layout.add(group.meta);
        actual.push(group.bytes);
      }
      actual.push(layout.footer());
      expect(Buffer.concat(actual).equals(Buffer.concat(expected))).toBe(true);
    }
  });

  it('refuses a row with the wrong number of fields, naming the count', () => {
    const bad = Buffer.from('1\tv1\tv2\n', 'utf8');
    expect(() => encodePairLinesFromCopy(bad, 'dpo-jsonl')).toThrow('COPY row with 3 fields, expected 16');
    expect(() => encodePairRowGroupFromCopy(bad, resolveParquetOptions({}))).toThrow('COPY row with 3 fields, expected 16');
  });

  it('refuses a non-finite number as the row path does', () => {
    const nan = Buffer.from(copyRows(1, 3).replace(/^((?:[^\t]*\t){8})[^\t]*/, '$1NaN'), 'utf8');
    expect(() => rowsOf(nan.toString()).map(canonicalPairLine)).toThrow('margin is not a finite number');
    expect(() => encodePairLinesFromCopy(nan, 'pairs-jsonl')).toThrow('margin is not a finite number');
    expect(() => encodePairRowGroupFromCopy(nan, resolveParquetOptions({}))).toThrow('margin is not a finite number');
  });

  it('runs in the export worker thread, from the TypeScript source under jest as from dist in production', async () => {
    const worker = startExportWorker();
    try {
      const ask = (task: ExportTask) => new Promise<ExportResult>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage(task);
      });
      const rowsCopy = () => new Uint8Array(bytes);
      const dpo = await ask({ id: 1, format: 'dpo-jsonl', rows: rowsCopy() });
      expect(dpo).toMatchObject({ id: 1 });
      expect(Buffer.from(dpo.bytes!).toString('utf8')).toBe(rows.filter((r) => !r.tie).map(dpoLine).join(''));
      const parquet = resolveParquetOptions({});
      const group = await ask({ id: 2, format: 'parquet', rows: rowsCopy(), parquet });
      expect(Buffer.from(group.bytes!).equals(encodePairRowGroupFromCopy(bytes, parquet).bytes)).toBe(true);
      const bad = await ask({ id: 3, format: 'pairs-jsonl', rows: new Uint8Array(Buffer.from('1\tv1\n')) });
      expect(bad).toEqual({ id: 3, error: 'COPY row with 2 fields, expected 16' });
    } finally {
      await worker.terminate();
    }
  }, 60000);
});
