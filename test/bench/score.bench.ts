/*
 * `npm run bench:score [-- --requests 3000] [--seconds 1]`: (1) candidates/s through onnxruntime-node for an MLP 64→64→1 (the bench:score-model run,
 * in a child process), and (2) the latency of POST /v1/score with 64 candidates against a real api process whose
 * production model is that MLP, with in-process onnxruntime scoring of the same 64 rows as the ceiling.
 * Last line: {"rowsPerSec", "p50Ms", "p99Ms"} (plus the ceiling's p99).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@flywheel/config';
import { ModelsRepository, ProjectsRepository, createDataSource, createProjectWithKeys, dropDatabase, migrate } from '@flywheel/database';
import { Prng, RewardScorer, writeOnnx } from '@flywheel/reward-model';
import { TestContext } from '../support/harness';

const DIM = 64;
const CANDIDATES = 64;

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '3000' }, seconds: { type: 'string', default: '1' } } });
  const requests = Number(values.requests);
  const root = path.resolve(__dirname, '../../..');
  // --seconds: how long bench:score-model measures each of its rows
  const modelBench = execFileSync(process.execPath, [path.join(root, 'dist/test/bench/score-model.bench.js'), '--seconds', values.seconds!], { encoding: 'utf8' });
  const modelLines = modelBench.trim().split('\n');
  const { rowsPerSec, batch } = JSON.parse(modelLines[modelLines.length - 1]);

  process.env.PGDATABASE = `flywheel_bench_${randomBytes(4).toString('hex')}`;
  process.env.FLYWHEEL_TEST_RUN = 'bench';
  const config = loadConfig();
  await migrate(config.database);
  const ctx = new TestContext('score');
  let exitCode = 0;
  try {
    await ctx.setUp();
    const db = createDataSource(config.database, { poolSize: 2 });
    await db.initialize();
    const project = await createProjectWithKeys(new ProjectsRepository(db), 'bench', DIM);
    const rng = new Prng(7);
    const layer = (inDim: number, outDim: number) => ({
      inDim, outDim,
      weights: Float32Array.from({ length: inDim * outDim }, () => rng.nextNormal() / Math.sqrt(inDim)),
      bias: Float32Array.from({ length: outDim }, () => rng.nextNormal() * 0.1),
    });
    const model = { kind: 'mlp' as const, inputDim: DIM, hiddenLayers: [64], layers: [layer(DIM, 64), layer(64, 1)] };
    const onnx = writeOnnx(model, { policyVersion: 'v1', preferenceSetId: 'bench', metrics: {}, seed: 7, createdAt: new Date() });
    const models = new ModelsRepository(db);
    const empty = new Float32Array(0);
    const evaluationSetId = await models.saveEvaluationSet(project.projectId, { featureDim: DIM, pairs: 0, featuresA: empty, featuresB: empty, outcome: empty, weight: empty });
    const row = await models.insert({ id: randomUUID(), projectId: project.projectId, kind: 'mlp', featureDim: DIM, policyId: 'v1', preferenceSetId: null, metrics: {}, evaluationSetId }, () => ({ onnx, card: {}, cardMarkdown: '' }));
    await models.promote(project.projectId, row.id, 'benchmark');
    await db.destroy();

    const api = await ctx.startApi({ LOG_LEVEL: 'warn' });
    const candidates = Array.from({ length: CANDIDATES }, () => ({ features: Array.from({ length: DIM }, () => Number(rng.nextNormal().toFixed(4))) }));
    const body = JSON.stringify({ candidates });
    const call = async () => {
      const started = process.hrtime.bigint();
      const response = await fetch(`${api.url}/v1/score`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${project.secretKey}` }, body });
      if (response.status !== 200) throw new Error(`score answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    for (let i = 0; i < 200; i++) await call(); // warm-up: JIT, model load, connection
    const http: number[] = [];
    for (let i = 0; i < requests; i++) http.push(await call());
    http.sort((a, b) => a - b);

    // The HTTP floor: the same client and server answering the cheapest route (no auth, no body, no model).
    const floor: number[] = [];
    for (let i = 0; i < requests; i++) {
      const started = process.hrtime.bigint();
      await (await fetch(`${api.url}/health/live`)).arrayBuffer();
      floor.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    floor.sort((a, b) => a - b);

    const scorer = await RewardScorer.create(onnx);
    const features = Float32Array.from(candidates.flatMap((c) => c.features));
    const direct: number[] = [];
    for (let i = 0; i < 200; i++) await scorer.score(features, CANDIDATES);
    for (let i = 0; i < requests; i++) {
      const started = process.hrtime.bigint();
      await scorer.score(features, CANDIDATES);
      direct.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    direct.sort((a, b) => a - b);
    await scorer.release();

    const fmt = (x: number) => x.toFixed(3).padStart(9);
    process.stdout.write([
      `MLP ${DIM}→64→1 through onnxruntime-node: ${Math.round(rowsPerSec).toLocaleString('en-US')} candidates/s (batch ${batch}; see bench:score-model)`,
      '',
      'what                                   p50 ms     p99 ms',
      `POST /v1/score, ${CANDIDATES} candidates (HTTP)  ${fmt(percentile(http, 0.5))}  ${fmt(percentile(http, 0.99))}`,
      `floor: GET /health/live (same client)   ${fmt(percentile(floor, 0.5))}  ${fmt(percentile(floor, 0.99))}`,
      `ceiling: onnxruntime, same ${CANDIDATES} rows     ${fmt(percentile(direct, 0.5))}  ${fmt(percentile(direct, 0.99))}`,
      `(${requests} sequential requests after 200 warm-up, keep-alive, api and client on the same 2 cores)`,
      '',
    ].join('\n'));
    process.stdout.write(`${JSON.stringify({
      rowsPerSec: Math.round(rowsPerSec), p50Ms: Number(percentile(http, 0.5).toFixed(3)), p99Ms: Number(percentile(http, 0.99).toFixed(3)),
      ceilingP99Ms: Number(percentile(direct, 0.99).toFixed(3)), httpFloorP50Ms: Number(percentile(floor, 0.5).toFixed(3)),
    })}\n`);
  } catch (error) {
    process.stderr.write(`bench:score failed: ${(error as Error).message}\n`);
    exitCode = 1;
  } finally {
    await ctx.tearDown().catch(() => undefined);
    await dropDatabase(config.database).catch(() => undefined);
  }
  process.exit(exitCode);
}

void main();
