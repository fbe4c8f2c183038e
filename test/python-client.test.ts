/**
 * @jest-environment ./libs/reward-model/src/onnxruntime.jest-environment.js
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreatedProject } from '@flywheel/database';
import { Prng, RewardScorer } from '@flywheel/reward-model';
import { AppProcess, ROOT, TestContext } from './support/harness';
import { registerRandomModel } from './support/reward-models';
import { seedEvidence } from './medium/trainer-world';

/** Debian's interpreter, not a pyenv shim: the client must work with the standard library alone. */
const PYTHON = '/usr/bin/python3';
const CLIENT = path.join(ROOT, 'clients/python');

/**
 * The Python client (clients/python) against the real api and trainer: its unittest suite runs under Debian's
 * python3 with a fixture written here — the api's URL and keys, a 12 × 8 rollout batch and the rewards onnxruntime
 * computes for it in this process (the oracle the Python side compares with) — and must pass every test it has.
 */
describe('Python client', () => {
  const ctx = new TestContext('python');
  const DIM = 4;
  const DIMENSIONS = ['visual_quality', 'motion_quality', 'text_alignment'];
  let api: AppProcess;
  let project: CreatedProject;
  let dir: string;

  beforeAll(async () => {
    await ctx.setUp();
    project = await ctx.createProject(DIM, 'python');
    await seedEvidence(ctx.db, project); // generations and signals, so preference sets build
    [api] = await Promise.all([ctx.startApi(), ctx.startTrainer()]);
    dir = mkdtempSync(path.join(tmpdir(), 'flywheel-python-'));
  }, 90000);
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await ctx.tearDown();
  }, 30000);

  it('passes its unittest suite against the running service with Debian python3', async () => {
    const model = await registerRandomModel(ctx.db, project.projectId, DIM, { seed: 31, hidden: [8], dimensions: DIMENSIONS });
    const scorer = await RewardScorer.create(model.onnx);
    const rng = new Prng(13);
    const n = 12 * 8;
    const prompts = Array.from({ length: n }, (_, i) => `prompt ${Math.floor(i / 8)}`);
    const groups = Array.from({ length: n }, (_, i) => Math.floor(i / 8));
    // float32 values, so JSON and base64 float32 send the model the same numbers.
    const features = Array.from({ length: n }, () => Array.from({ length: DIM }, () => Math.fround(rng.nextNormal())));
    const scored = await scorer.scoreAll(Float32Array.from(features.flat()), n);
    const expected = {
      overall: Array.from(scored.reward),
      ...Object.fromEntries(DIMENSIONS.map((d, k) => [d, features.map((_, i) => scored.rewards[i * DIMENSIONS.length + k])])),
    };
    const stored: { video_id: string; features: number[] }[] = await ctx.db.query(
      `SELECT video_id, features FROM generations WHERE project_id = $1 ORDER BY video_id LIMIT 5`, [project.projectId]);
    const videos = { ids: stored.map((r) => r.video_id), expected: Array.from(await scorer.score(Float32Array.from(stored.flatMap((r) => r.features)), stored.length)) };
    await scorer.release();
    const fixture = path.join(dir, 'fixture.json');
    writeFileSync(fixture, JSON.stringify({
      url: api.url, secretKey: project.secretKey, ingestKey: project.ingestKey, featureDim: DIM, dimensions: DIMENSIONS,
      modelId: model.id, batch: { prompts, groups, features, expected }, videos,
    }));

    const run = await python(['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v'], { FLYWHEEL_TEST_FIXTURE: fixture });
    if (run.code !== 0) throw new Error(`python unittest failed (exit ${run.code}):\n${run.output}`);
    // Every test ran and none was skipped: the count is the suite's, so a test that stops being collected fails here.
    expect(run.output).toMatch(/^Ran 11 tests in /m);
    expect(run.output).toMatch(/^OK$/m);
  }, 240000);
});

function python(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, {
      cwd: CLIENT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: CLIENT, ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}
