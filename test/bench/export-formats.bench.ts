/*
 * Export-format benchmark: `node dist/test/bench/export-formats.bench.js [--rows 1000000]`.
 *
 * Streams synthetic preference-pair rows (generated on the fly, so the source holds no memory) through each encoder
 * into /dev/null with stream.pipeline, the way an HTTP export streams into a response: pairs/s and peak RSS per
 * format. The first line, the same rows through the same pipeline with no encoding (a constant line per row), is the
 * ceiling of this process; the database side (psql \copy of the same rows) is measured elsewhere. Last line:
 * {"pairs","jsonlPairsPerSec","parquetPairsPerSec","peakRssMb"}.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encodePairs, newExportStats, type PairExportFormat, type PreferencePairRow } from '../../libs/preferences/src';

interface Result {
  stage: string;
  pairs: number;
  seconds: number;
  pairsPerSec: number;
  mb: number;
  peakRssMb: number;
}

const PROMPTS = Array.from({ length: 1000 }, (_, i) =>
  `a ${['cat', 'dog', 'fox', 'robot'][i % 4]} ${['surfing', 'dancing, slowly', 'in the "rain"', 'on the moon'][(i >> 2) % 4]} — cinematic shot #${i}, 35mm film, golden hour`);
const SCOPES = ['request', 'prompt', 'session'] as const;
const SPLITS = ['train', 'train', 'train', 'train', 'train', 'train', 'train', 'train', 'validation', 'test'] as const;

let peakRss = 0;
function sampleRss(): void {
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
}

/** Rows like a real set's: uuid-sized ids, URIs, ~90-character prompts, a tie now and then, some dimensions. */
function* syntheticRows(n: number): Generator<PreferencePairRow> {
  for (let i = 0; i < n; i++) {
    if ((i & 4095) === 0) sampleRss();
    const request = i >> 2;
    const chosenId = `0b6f${(i * 2).toString(16).padStart(8, '0')}-7c1e-4c55-9a1d-3e2f5b6a7c8d`;
    const rejectedId = `0b6f${(i * 2 + 1).toString(16).padStart(8, '0')}-7c1e-4c55-9a1d-3e2f5b6a7c8d`;
    const scope = SCOPES[i % 3];
    yield {
      chosenId,
      rejectedId,
      chosenUri: i % 17 === 0 ? null : `s3://flywheel-videos/project/${chosenId}.mp4`,
      rejectedUri: `s3://flywheel-videos/project/${rejectedId}.mp4`,
      prompt: PROMPTS[request % PROMPTS.length],
      requestId: scope === 'request' ? `req-${request}` : null,
      modelVersion: 'seedance-1.3.0',
      margin: ((i * 7919) % 1000) / 1000 + 1e-9,
      weight: 1 / (1 + (i % 5)),
      tie: i % 29 === 0,
      scope,
      groupKey: scope === 'session' ? `user:${(i % 50_000).toString(16)}` : `request:req-${request}`,
      split: SPLITS[i % 10],
      source: 'observed',
      dimensions: i % 4 === 0 ? { motion_quality: 0.5, text_alignment: -1, visual_quality: 1.25 } : {},
    };
  }
}

async function* constantLines(rows: Iterable<PreferencePairRow>): AsyncGenerator<Buffer> {
  const line = Buffer.from('{}\n');
  let batch: Buffer[] = [];
  for (const _row of rows) {
    batch.push(line);
    if (batch.length === 16_384) {
      yield Buffer.concat(batch);
      batch = [];
    }
  }
  if (batch.length) yield Buffer.concat(batch);
}

async function measure(stage: string, pairs: number, encode: (rows: Iterable<PreferencePairRow>) => AsyncIterable<Buffer>): Promise<Result> {
  (globalThis as { gc?: () => void }).gc?.();
  peakRss = process.memoryUsage().rss;
  const timer = setInterval(sampleRss, 25);
  let bytes = 0;
  const started = performance.now();
  try {
    await pipeline(
      Readable.from(encode(syntheticRows(pairs))),
      async function* count(source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          bytes += chunk.length;
          yield chunk;
        }
      },
      createWriteStream('/dev/null'),
    );
  } finally {
    clearInterval(timer);
  }
  sampleRss();
  const seconds = (performance.now() - started) / 1000;
  return { stage, pairs, seconds, pairsPerSec: pairs / seconds, mb: bytes / 1e6, peakRssMb: peakRss / 1e6 };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const rowsArg = argv.indexOf('--rows');
  const pairs = rowsArg >= 0 ? Number(argv[rowsArg + 1]) : 1_000_000;
  const results: Result[] = [await measure('ceiling: rows, no encoding', pairs, constantLines)];
  const formats: PairExportFormat[] = ['dpo-jsonl', 'pairs-jsonl', 'videoalign-csv', 'parquet'];
  for (const format of formats) {
    const stats = newExportStats();
    results.push(await measure(format, pairs, (rows) => encodePairs(format, rows, {}, stats)));
  }
  const pad = (s: string | number, w: number) => String(s).padStart(w);
  console.log(`${'stage'.padEnd(28)}${pad('pairs', 10)}${pad('seconds', 9)}${pad('pairs/s', 11)}${pad('MB out', 9)}${pad('peak RSS MB', 13)}`);
  for (const r of results) {
    console.log(`${r.stage.padEnd(28)}${pad(r.pairs, 10)}${pad(r.seconds.toFixed(2), 9)}${pad(Math.round(r.pairsPerSec), 11)}${pad(r.mb.toFixed(1), 9)}${pad(r.peakRssMb.toFixed(0), 13)}`);
  }
  const by = (stage: string) => results.find((r) => r.stage === stage)!;
  console.log(JSON.stringify({
    pairs,
    jsonlPairsPerSec: Math.round(by('dpo-jsonl').pairsPerSec),
    parquetPairsPerSec: Math.round(by('parquet').pairsPerSec),
    peakRssMb: Math.round(Math.max(...results.map((r) => r.peakRssMb))),
  }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
