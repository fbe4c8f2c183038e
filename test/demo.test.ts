import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreatedProject } from '@flywheel/database';
import { DemoWorld, Rng } from '../scripts/demo/demo-world';
import { DemoResult, runDemo } from '../scripts/demo/run-demo';
import { AppProcess, TestContext } from './support/harness';

/**
 * The closed-loop demo, short: three rounds of synthetic users → the real api → Kafka → ingest-worker → trainer →
 * preference set → Kafka → generator update, in this process. Seeds are fixed; the margins below are a fraction of
 * what the seeded run shows, so they hold without being loose enough to pass on a loop that does not learn.
 */
describe('closed-loop demo', () => {
  const ctx = new TestContext('demo');
  let api: AppProcess;
  let project: CreatedProject;
  let outDir: string;
  let result: DemoResult;

  beforeAll(async () => {
    await ctx.setUp();
    project = await ctx.createProject(8, 'demo');
    [api] = await Promise.all([ctx.startApi(), ctx.startWorker(), ctx.startTrainer()]);
    outDir = mkdtempSync(path.join(tmpdir(), 'flywheel-demo-'));
    result = await runDemo({
      apiUrl: api.url, ingestKey: project.ingestKey, secretKey: project.secretKey, config: ctx.config, outDir,
      rounds: 3, requests: 30, shadowRequests: 20, viewersPerRequest: 4, seed: 7, runId: 'test', log: () => undefined,
    });
  }, 200_000);
  afterAll(async () => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
    await ctx.tearDown();
  }, 30_000);

  it('raises true satisfaction round after round, toward the optimum and well above the control', () => {
    const truth = [...result.rounds.map((r) => r.trueSatisfaction), result.final.trueSatisfaction];
    expect(result.rounds).toHaveLength(3);
    for (let i = 1; i < truth.length; i++) expect(truth[i]).toBeGreaterThan(truth[i - 1]);
    expect(result.final.trueSatisfaction - truth[0]).toBeGreaterThan(0.5);
    expect(result.final.trueSatisfaction - result.final.control.randomPairs).toBeGreaterThan(0.5);
    expect(result.final.trueSatisfaction - result.final.control.frozen).toBeGreaterThan(0.5);
    expect(result.final.trueSatisfaction).toBeLessThanOrEqual(result.optimum.value + 1e-9);
  });

  it('measures against an optimum no generator within the norm cap beats', () => {
    const world = new DemoWorld({ seed: 7 });
    const rng = new Rng(1);
    const { value, theta } = world.optimum(1);
    expect(value).toBeCloseTo(result.optimum.value, 12);
    for (let trial = 0; trial < 200; trial++) {
      const candidate = theta.map((t) => {
        const v = t.map((x) => x + 0.5 * rng.normal());
        const length = Math.hypot(...v);
        return v.map((x) => x / length);
      });
      expect(world.trueSatisfaction(candidate)).toBeLessThanOrEqual(value + 1e-12);
    }
  });

  it('shows the rise in the observed satisfaction the metrics API reports', () => {
    const first = result.rounds[0].observed;
    const last = result.rounds[result.rounds.length - 1].observed;
    expect(first.viewers).toBe(30 * 4 * 4);
    expect(last.satisfaction.value!).toBeGreaterThan(first.satisfaction.high!);
    expect(result.compare?.satisfaction).toMatchObject({ significant: true });
    expect(result.compare!.satisfaction!.difference!).toBeGreaterThan(0);
  });

  it('trains the generator on every pair it published, read back from Kafka, including reward-model pairs', () => {
    for (const r of result.rounds) {
      expect(r.rewardModel.error).toBeNull();
      expect(r.consumed.pairs).toBe(r.preferenceSet.pairs);
      expect(r.consumed.rankings).toBe(r.preferenceSet.rankings);
      expect(r.preferenceSet.published).toBe(r.preferenceSet.pairs + r.preferenceSet.rankings + 1);
      expect(r.consumed.unknownVideos).toBe(0);
      expect(r.consumed.usedObserved).toBeGreaterThan(50);
      expect(r.consumed.usedRewardModel).toBe(r.preferenceSet.bySource.reward_model ?? 0);
    }
    expect(result.rounds.some((r) => r.consumed.usedRewardModel > 0)).toBe(true);
    expect(result.topic).toBe(`${ctx.prefix}.flywheel.preferences.v1`);
  });

  it('registers every generator version with its parent and the set it was trained on', () => {
    const byVersion = new Map(result.generators.map((g) => [g.modelVersion, g]));
    expect(byVersion.get('demo-gen-v1')).toMatchObject({ parentVersion: null, trainedOn: [] });
    result.rounds.forEach((r, i) => {
      expect(byVersion.get(`demo-gen-v${i + 2}`)).toMatchObject({ parentVersion: r.version, trainedOn: [r.preferenceSet.id] });
    });
  });

  it('writes a self-contained chart and the data behind it', () => {
    const html = readFileSync(result.artifacts!.html, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const data = JSON.parse(readFileSync(result.artifacts!.json, 'utf8')) as DemoResult;
    expect(data.rounds.map((r) => r.version)).toEqual(['demo-gen-v1', 'demo-gen-v2', 'demo-gen-v3']);
    expect(existsSync(path.join(outDir, 'demo.json'))).toBe(true);
  });
});
