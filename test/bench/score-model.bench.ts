/*
 * Reward-model scoring benchmark: `npm run bench:score-model [-- --seconds 1]`.
 *
 * Candidates per second through onnxruntime-node for an MLP 64→64→1 written by writeOnnx, at batch sizes 64 (one
 * editor request), 1,000 and 10,000, with the serving configuration (one intra-op thread, one call in flight) and two
 * alternatives (two intra-op threads; two calls in flight), plus per-call latency. The pure-TypeScript predict() of
 * the same model is the reference. Last line: {"rowsPerSec", "batch"} for the best batch size in the serving
 * configuration.
 */
import { predict, Prng, RewardScorer, writeOnnx, type RewardModel } from '@flywheel/reward-model';

const DIM = 64;
const HIDDEN = 64;
const BATCHES = [64, 1000, 10_000];
const POOL_ROWS = 200_000;

interface Row {
  engine: string;
  batch: number;
  rowsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

function randomModel(rng: Prng): RewardModel {
  const layer = (inDim: number, outDim: number) => ({
    inDim,
    outDim,
    weights: Float32Array.from({ length: inDim * outDim }, () => rng.nextNormal() * Math.sqrt(2 / inDim)),
    bias: Float32Array.from({ length: outDim }, () => rng.nextNormal() * 0.1),
  });
  return { kind: 'mlp', inputDim: DIM, hiddenLayers: [HIDDEN], layers: [layer(DIM, HIDDEN), layer(HIDDEN, 1)] };
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Runs `call` on consecutive slices of the pool for about `seconds`, `inFlight` calls at a time. */
async function measure(
  engine: string,
  batch: number,
  seconds: number,
  inFlight: number,
  call: (features: Float32Array, n: number) => Promise<unknown> | unknown,
  pool: Float32Array,
): Promise<Row> {
  const slices = Math.floor(POOL_ROWS / batch);
  let next = 0;
  const slice = (): Float32Array => {
    const s = next++ % slices;
    return pool.subarray(s * batch * DIM, (s + 1) * batch * DIM);
  };
  for (let i = 0; i < 5; i++) await call(slice(), batch); // warm-up
  const latencies: number[] = [];
  let rows = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t = performance.now();
      await call(slice(), batch);
      latencies.push(performance.now() - t);
      rows += batch;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const [p50Ms, p99Ms] = [percentile(latencies, 0.5), percentile(latencies, 0.99)];
  return { engine, batch, rowsPerSec: rows / elapsed, p50Ms, p99Ms };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const secondsArg = argv.indexOf('--seconds');
  const seconds = secondsArg >= 0 ? Number(argv[secondsArg + 1]) : 1;
  const rng = new Prng(7);
  const model = randomModel(rng);
  const bytes = writeOnnx(model, {
    policyVersion: 'bench',
    preferenceSetId: 'bench',
    metrics: {},
    seed: 7,
    createdAt: new Date(),
  });
  const pool = Float32Array.from({ length: POOL_ROWS * DIM }, () => rng.nextNormal());
  console.log(`score-model bench: MLP ${DIM}→${HIDDEN}→1 (${bytes.length.toLocaleString('en-US')} bytes of ONNX), ` +
    `~${seconds}s per row`);

  const serving = await RewardScorer.create(bytes, { intraOpThreads: 1 });
  const twoThreads = await RewardScorer.create(bytes, { intraOpThreads: 2 });
  const rows: Row[] = [];
  const servingRows: Row[] = [];
  for (const batch of BATCHES) {
    const row = await measure('onnxruntime, 1 intra-op thread', batch, seconds, 1, (f, n) => serving.score(f, n), pool);
    rows.push(row);
    servingRows.push(row);
  }
  for (const batch of BATCHES) {
    const label = 'onnxruntime, 2 intra-op threads';
    rows.push(await measure(label, batch, seconds, 1, (f, n) => twoThreads.score(f, n), pool));
  }
  for (const batch of BATCHES) {
    const label = 'onnxruntime, 1 thread, 2 in flight';
    rows.push(await measure(label, batch, seconds, 2, (f, n) => serving.score(f, n), pool));
  }
  for (const batch of BATCHES) {
    rows.push(await measure('TypeScript predict()', batch, seconds, 1, (f, n) => predict(model, f, n), pool));
  }
  // Sanity: both engines agree on what they are timing.
  const check = pool.subarray(0, 1000 * DIM);
  const [fromOrt, fromTs] = [await serving.score(check, 1000), predict(model, check, 1000)];
  let worst = 0;
  for (let i = 0; i < 1000; i++) worst = Math.max(worst, Math.abs(fromOrt[i] - fromTs[i]));
  await serving.release();
  await twoThreads.release();

  const header = ['engine', 'batch', 'rows/s', 'p50 ms', 'p99 ms'];
  const body = rows.map((r) => [
    r.engine,
    r.batch.toLocaleString('en-US'),
    Math.round(r.rowsPerSec).toLocaleString('en-US'),
    r.p50Ms.toFixed(3),
    r.p99Ms.toFixed(3),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]): string =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(line(header));
  for (const row of body) console.log(line(row));
  console.log(`max |onnxruntime − predict()| over 1,000 rows: ${worst.toExponential(2)}`);
  const best = servingRows.reduce((a, b) => (b.rowsPerSec > a.rowsPerSec ? b : a));
  console.log(JSON.stringify({ rowsPerSec: Math.round(best.rowsPerSec), batch: best.batch }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
