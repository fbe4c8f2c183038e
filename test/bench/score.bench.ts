/*
 * `npm run bench:score [-- --requests 3000] [--seconds 1] [--rollout-requests 100] [--rounds 5] [--dim 64]`:
 * (1) candidates/s through onnxruntime-node for an MLP 64→64→1 (the bench:score-model run, in a child process),
 * (2) the latency of POST /v1/score with 64 candidates against a real api process whose production model is that
 * MLP, with in-process onnxruntime scoring of the same 64 rows as the ceiling, and (3) the latency of
 * POST /v1/rewards for one rollout batch of 48 prompts × 24 rollouts = 1,152 candidates with `--dim` features each
 * (as a Python client sends float32 embeddings: full-precision doubles) and advantages, from a second project whose
 * production model is an MLP dim→64→1 with three dimension heads; its ceiling is onnxruntime scoring the same 1,152
 * rows in this process. The machine is shared, so (3) alternates: each of `--rounds` rounds runs the HTTP calls,
 * then the ceiling, then JSON.parse of the request body (what the api's body parser does at least once).
 * Last line: {"rowsPerSec", "p50Ms", "p99Ms", "rewardsP50Ms", "rewardsP99Ms", "rewardsCeilingP50Ms", …}.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@flywheel/config';
import { ProjectsRepository, createProjectWithKeys, dropDatabase, migrate } from '@flywheel/database';
import { Prng, RewardScorer } from '@flywheel/reward-model';
import { TestContext } from '../support/harness';
import { registerRandomModel } from '../support/reward-models';

const DIM = 64;
const CANDIDATES = 64;
/** One rollout batch of Flow-GRPO's defaults: 48 prompts × 24 rollouts. */
const GROUPS = 48;
const PER_GROUP = 24;
const DIMENSIONS = ['visual_quality', 'motion_quality', 'text_alignment'];

/** User + system CPU of a process so far, in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function apiCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    requests: { type: 'string', default: '3000' }, seconds: { type: 'string', default: '1' },
    'rollout-requests': { type: 'string', default: '100' }, rounds: { type: 'string', default: '5' }, dim: { type: 'string', default: String(DIM) },
  } });
  const requests = Number(values.requests);
  const rolloutRequests = Number(values['rollout-requests']);
  const rounds = Number(values.rounds);
  const rolloutDim = Number(values.dim);
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
    const { db } = ctx;
    const project = await createProjectWithKeys(db.make(ProjectsRepository), 'bench', DIM);
    const { onnx } = await registerRandomModel(db, project.projectId, DIM, { seed: 7, hidden: [64] });
    const rollout = await createProjectWithKeys(db.make(ProjectsRepository), 'bench-rollouts', rolloutDim);
    const rolloutModel = await registerRandomModel(db, rollout.projectId, rolloutDim, { seed: 8, hidden: [64], dimensions: DIMENSIONS });
    const rng = new Prng(7);

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

    // (3) POST /v1/rewards, one rollout batch, alternating with its ceiling and with JSON.parse of its body.
    const rollouts = Array.from({ length: GROUPS * PER_GROUP }, (_, i) => ({
      prompt: `prompt ${Math.floor(i / PER_GROUP)}`, group: Math.floor(i / PER_GROUP),
      features: Array.from({ length: rolloutDim }, () => Math.fround(rng.nextNormal())),
    }));
    const rolloutBody = JSON.stringify({ candidates: rollouts, advantages: true });
    const rolloutRows = Float32Array.from(rollouts.flatMap((c) => c.features));
    const base64Body = JSON.stringify({
      candidates: rollouts.map(({ features, ...c }) => ({ ...c, featuresBase64: Buffer.from(Float32Array.from(features).buffer).toString('base64') })),
      advantages: true,
    });
    const rewardsCall = async (body = rolloutBody) => {
      const started = process.hrtime.bigint();
      const response = await fetch(`${api.url}/v1/rewards`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${rollout.secretKey}` }, body });
      if (response.status !== 200) throw new Error(`rewards answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
      await response.arrayBuffer();
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const rolloutScorer = await RewardScorer.create(rolloutModel.onnx);
    const timed = async (f: () => unknown) => {
      const started = process.hrtime.bigint();
      await f();
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    for (let i = 0; i < 20; i++) { await rewardsCall(); await rewardsCall(base64Body); await rolloutScorer.scoreAll(rolloutRows, rollouts.length); }
    const rewardsHttp: number[] = [];
    const rewardsBase64: number[] = [];
    const rewardsDirect: number[] = [];
    const parse: number[] = [];
    const roundMedians: { http: number; base64: number; ceiling: number }[] = [];
    // CPU the api process spent per call (user + system, from /proc): less sensitive than wall time to the other
    // work sharing the cores, though not immune (caches, frequency).
    const apiCpu = { json: 0, base64: 0 };
    const perRound = Math.max(1, Math.ceil(rolloutRequests / rounds));
    for (let round = 0; round < rounds; round++) {
      const http: number[] = [];
      const base64: number[] = [];
      const direct: number[] = [];
      let cpu = apiCpuMs(api.child.pid!);
      for (let i = 0; i < perRound; i++) http.push(await rewardsCall());
      apiCpu.json += apiCpuMs(api.child.pid!) - cpu;
      cpu = apiCpuMs(api.child.pid!);
      for (let i = 0; i < perRound; i++) base64.push(await rewardsCall(base64Body));
      apiCpu.base64 += apiCpuMs(api.child.pid!) - cpu;
      for (let i = 0; i < perRound; i++) direct.push(await timed(() => rolloutScorer.scoreAll(rolloutRows, rollouts.length)));
      for (let i = 0; i < perRound; i++) parse.push(await timed(() => JSON.parse(rolloutBody)));
      for (const xs of [http, base64, direct]) xs.sort((a, b) => a - b);
      roundMedians.push({ http: percentile(http, 0.5), base64: percentile(base64, 0.5), ceiling: percentile(direct, 0.5) });
      rewardsHttp.push(...http);
      rewardsBase64.push(...base64);
      rewardsDirect.push(...direct);
    }
    await rolloutScorer.release();
    for (const xs of [rewardsHttp, rewardsBase64, rewardsDirect, parse]) xs.sort((a, b) => a - b);
    const rewardsRatio = percentile(rewardsHttp, 0.5) / percentile(rewardsDirect, 0.5);

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
      `POST /v1/rewards: ${GROUPS} groups × ${PER_GROUP} rollouts = ${rollouts.length} candidates × ${rolloutDim} features, advantages, MLP ${rolloutDim}→64→1 + ${DIMENSIONS.length} heads; body ${(rolloutBody.length / 1e6).toFixed(2)} MB`,
      'what                                   p50 ms     p99 ms',
      `POST /v1/rewards (HTTP)                 ${fmt(percentile(rewardsHttp, 0.5))}  ${fmt(percentile(rewardsHttp, 0.99))}`,
      `same, featuresBase64 (${(base64Body.length / 1e6).toFixed(2)} MB)         ${fmt(percentile(rewardsBase64, 0.5))}  ${fmt(percentile(rewardsBase64, 0.99))}`,
      `ceiling: onnxruntime, same rows         ${fmt(percentile(rewardsDirect, 0.5))}  ${fmt(percentile(rewardsDirect, 0.99))}`,
      `JSON.parse of the request body          ${fmt(percentile(parse, 0.5))}  ${fmt(percentile(parse, 0.99))}`,
      `api CPU per call: ${(apiCpu.json / (rounds * perRound)).toFixed(1)} ms (JSON arrays), ${(apiCpu.base64 / (rounds * perRound)).toFixed(1)} ms (featuresBase64)`,
      `ratio of medians HTTP / ceiling: ${rewardsRatio.toFixed(1)}; per round (p50 JSON arrays/base64/ceiling): ${roundMedians.map((r) => `${r.http.toFixed(1)}/${r.base64.toFixed(1)}/${r.ceiling.toFixed(2)}`).join('  ')}`,
      `(${rounds} alternating rounds of ${perRound} sequential requests after 20 warm-up)`,
      '',
    ].join('\n'));
    process.stdout.write(`${JSON.stringify({
      rowsPerSec: Math.round(rowsPerSec), p50Ms: Number(percentile(http, 0.5).toFixed(3)), p99Ms: Number(percentile(http, 0.99).toFixed(3)),
      ceilingP99Ms: Number(percentile(direct, 0.99).toFixed(3)), httpFloorP50Ms: Number(percentile(floor, 0.5).toFixed(3)),
      rewardsCandidates: rollouts.length, rewardsDim: rolloutDim, rewardsBodyBytes: rolloutBody.length,
      rewardsP50Ms: Number(percentile(rewardsHttp, 0.5).toFixed(3)), rewardsP99Ms: Number(percentile(rewardsHttp, 0.99).toFixed(3)),
      rewardsCeilingP50Ms: Number(percentile(rewardsDirect, 0.5).toFixed(3)), rewardsCeilingP99Ms: Number(percentile(rewardsDirect, 0.99).toFixed(3)),
      rewardsBase64P50Ms: Number(percentile(rewardsBase64, 0.5).toFixed(3)), rewardsBase64P99Ms: Number(percentile(rewardsBase64, 0.99).toFixed(3)),
      rewardsRatio: Number(rewardsRatio.toFixed(2)), rewardsJsonParseP50Ms: Number(percentile(parse, 0.5).toFixed(3)),
      rewardsApiCpuMs: Number((apiCpu.json / (rounds * perRound)).toFixed(2)), rewardsBase64ApiCpuMs: Number((apiCpu.base64 / (rounds * perRound)).toFixed(2)),
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
