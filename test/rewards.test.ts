/**
 * @jest-environment ./libs/reward-model/src/onnxruntime.jest-environment.js
 */
import { CreatedProject } from '@flywheel/database';
import { Prng, RewardScorer } from '@flywheel/reward-model';
import { AppProcess, TestContext, post } from './support/harness';
import { RegisteredModel, registerRandomModel } from './support/reward-models';
import { seedEvidence } from './medium/trainer-world';

/**
 * POST /v1/rewards, the rollout scorer of online RL trainers, through the real api: a 48 × 24 rollout batch scored
 * by a multi-head production model exactly as onnxruntime scores it here, advantages checked against the formula
 * computed in this file, stored videos by id, a named model, and every bad input named by field.
 */
describe('POST /v1/rewards', () => {
  const ctx = new TestContext('rewards');
  const DIM = 4;
  const DIMENSIONS = ['visual_quality', 'motion_quality', 'text_alignment'];
  let api: AppProcess;
  let project: CreatedProject;
  let production: RegisteredModel;
  let other: RegisteredModel;
  let scorer: RewardScorer;

  beforeAll(async () => {
    await ctx.setUp();
    project = await ctx.createProject(DIM, 'rewards');
    await seedEvidence(ctx.db, project); // generations v<r>-<c> with stored features
    production = await registerRandomModel(ctx.db, project.projectId, DIM, { seed: 11, hidden: [8], dimensions: DIMENSIONS });
    other = await registerRandomModel(ctx.db, project.projectId, DIM, { seed: 21, promote: false });
    scorer = await RewardScorer.create(production.onnx);
    // A small general body limit, so the route's own (API_REWARDS_BODY_LIMIT_BYTES) is seen to apply.
    api = await ctx.startApi({ API_BODY_LIMIT_BYTES: String(64 * 1024), API_REWARDS_BODY_LIMIT_BYTES: String(1024 * 1024) });
  }, 90000);
  afterAll(async () => {
    await scorer?.release();
    await ctx.tearDown();
  }, 30000);

  const rewards = (body: unknown, key: string | null = project.secretKey) => post(`${api.url}/v1/rewards`, key, body);
  const rollouts = (groups: number, perGroup: number, seed: number) => {
    const rng = new Prng(seed);
    return Array.from({ length: groups * perGroup }, (_, i) => ({
      prompt: `prompt ${Math.floor(i / perGroup)}`, group: Math.floor(i / perGroup),
      features: Array.from({ length: DIM }, () => rng.nextNormal()),
    }));
  };
  /** (r − mean) / std with the population std, written out here rather than taken from the api's code. */
  const normalised = (values: number[], groups: (string | number)[]) => {
    const members = new Map<string, number[]>();
    values.forEach((v, i) => members.set(String(groups[i]), [...(members.get(String(groups[i])) ?? []), v]));
    const stats = new Map([...members].map(([g, vs]) => {
      const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
      return [g, { mean, std: Math.sqrt(vs.reduce((a, b) => a + (b - mean) ** 2, 0) / vs.length) }];
    }));
    return values.map((v, i) => {
      const { mean, std } = stats.get(String(groups[i]))!;
      return std === 0 ? 0 : (v - mean) / std;
    });
  };

  it('scores a 48 × 24 rollout batch as onnxruntime does, per dimension, with advantages normalised per group', async () => {
    const candidates = rollouts(48, 24, 5);
    const response = await rewards({ candidates, advantages: true });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ modelId: production.id, modelVersion: 1, dimensions: DIMENSIONS, count: 1152, groups: 48 });
    const local = await scorer.scoreAll(Float32Array.from(candidates.flatMap((c) => c.features)), candidates.length);
    const column = (k: number) => candidates.map((_, i) => local.rewards[i * DIMENSIONS.length + k]);
    const expected = { overall: Array.from(local.reward), ...Object.fromEntries(DIMENSIONS.map((d, k) => [d, column(k)])) };
    expect(response.body.rewards).toEqual(expected);
    const groups = candidates.map((c) => c.group);
    expect(Object.keys(response.body.advantages)).toEqual(['overall', ...DIMENSIONS]);
    for (const [name, values] of Object.entries(expected)) {
      const wanted = normalised(values, groups);
      response.body.advantages[name].forEach((a: number, i: number) => expect(a).toBeCloseTo(wanted[i], 9));
    }
    // The same features as base64 float32 give the same answer.
    const asBase64 = candidates.map(({ features, ...c }) => ({ ...c, featuresBase64: Buffer.from(Float32Array.from(features).buffer).toString('base64') }));
    await expect(rewards({ candidates: asBase64, advantages: true })).resolves.toEqual(expect.objectContaining({ status: 200, body: response.body }));
    // Without the flag there are no advantages.
    const plain = await rewards({ candidates: candidates.slice(0, 3) });
    expect(plain.body).not.toHaveProperty('advantages');
  });

  it('answers advantage 0 for a group of one and for a group of equal rewards; 1 and "1" are one group', async () => {
    const f = [0.5, -1, 2, 0.25];
    const candidates = [
      { prompt: 'alone', group: 'solo', features: f },
      { prompt: 'same', group: 'same', features: f }, { prompt: 'same', group: 'same', features: f },
      { prompt: 'mixed', group: 1, features: f }, { prompt: 'mixed', group: '1', features: [3, 1, -2, 0] },
    ];
    const { status, body } = await rewards({ candidates, advantages: true });
    expect(status).toBe(200);
    expect(body.groups).toBe(3);
    for (const name of ['overall', ...DIMENSIONS]) {
      expect(body.advantages[name].slice(0, 3)).toEqual([0, 0, 0]);
      expect(body.advantages[name].slice(3).map(Math.abs)).toEqual([1, 1]);
    }
  });

  it('scores stored generations by videoId next to sent features, and scores with a named model', async () => {
    const stored = await ctx.db.query(`SELECT video_id, features FROM generations WHERE project_id = $1 AND video_id IN ('v0-0', 'v0-1')`, [project.projectId]);
    const byId = new Map<string, number[]>(stored.map((r: any) => [r.video_id, r.features]));
    const candidates = [{ prompt: 'p', group: 'g', videoId: 'v0-0' }, { prompt: 'p', group: 'g', features: byId.get('v0-1')! }, { prompt: 'p', group: 'g', videoId: 'v0-1' }];
    const { status, body } = await rewards({ candidates });
    expect(status).toBe(200);
    const local = await scorer.scoreAll(Float32Array.from([...byId.get('v0-0')!, ...byId.get('v0-1')!]), 2);
    expect(body.rewards.overall).toEqual([local.reward[0], local.reward[1], local.reward[1]]);

    const named = await rewards({ candidates, modelId: other.id });
    expect(named).toMatchObject({ status: 200, body: { modelId: other.id, dimensions: [] } });
    const otherScorer = await RewardScorer.create(other.onnx);
    expect(named.body.rewards).toEqual({ overall: [...await otherScorer.score(Float32Array.from(byId.get('v0-0')!), 1), expect.any(Number), expect.any(Number)] });
    await otherScorer.release();
  });

  it('has its own body limit for rollout batches, above the other routes\' (API_REWARDS_BODY_LIMIT_BYTES)', async () => {
    const batch = { candidates: rollouts(1, 2048, 3) };
    expect(JSON.stringify(batch).length).toBeGreaterThan(64 * 1024);
    await expect(rewards(batch)).resolves.toMatchObject({ status: 200, body: { count: 2048 } });
    const scoreBatch = { candidates: batch.candidates.slice(0, 1000).map(({ features }) => ({ features })) };
    expect(JSON.stringify(scoreBatch).length).toBeGreaterThan(64 * 1024);
    await expect(post(`${api.url}/v1/score`, project.secretKey, scoreBatch)).resolves.toMatchObject({ status: 413 });
    const huge = { candidates: batch.candidates.map((c) => ({ ...c, prompt: 'x'.repeat(600) })) };
    await expect(rewards(huge)).resolves.toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
  });

  it('names the field of every bad candidate, in request order, and refuses what does not fit', async () => {
    const candidates: any[] = rollouts(1, 20, 9);
    candidates[17].features = [1, 2];
    candidates[3] = { group: 'g', features: candidates[3].features };
    candidates[5] = { ...candidates[5], group: 1.5 };
    candidates[6] = { ...candidates[6], features: [1, 'x', 3, 4] };
    candidates[8] = { ...candidates[8], videoId: 'nope', features: undefined };
    candidates[9] = { ...candidates[9], videoId: 'v0-0' };
    candidates[10] = { ...candidates[10], score: 1 };
    const shape = await rewards({ candidates, advantages: 'yes' });
    expect(shape.status).toBe(400);
    expect(shape.body.error.code).toBe('VALIDATION_FAILED');
    expect(shape.body.error.details.map((d: any) => d.field)).toEqual([
      'advantages', 'candidates[3].prompt', 'candidates[5].group', 'candidates[6].features[1]', 'candidates[10].score',
    ]);
    // Checks that need the project (dimension, stored videos) come once the shape is right, also by index.
    candidates[3].prompt = 'p'; candidates[5].group = 5; candidates[6].features = [1, 2, 3, 4]; delete candidates[10].score;
    const content = await rewards({ candidates });
    expect(content.status).toBe(400);
    expect(content.body.error.message).toMatch(/^candidates\[8\]\.videoId: no generation nope in this project \(and 2 more\)$/);
    expect(content.body.error.details.map((d: any) => d.problems[0])).toEqual([
      'candidates[8].videoId: no generation nope in this project',
      'candidates[9] needs exactly one of videoId or features (featuresBase64)',
      'candidates[17].features must have 4 values, got 2',
    ]);

    const f32 = (...xs: number[]) => Buffer.from(Float32Array.from(xs).buffer).toString('base64');
    const encoded = await rewards({ candidates: [
      { prompt: 'p', group: 1, featuresBase64: f32(1, 2, 3, 4) },
      { prompt: 'p', group: 1, featuresBase64: 'not base64!' },
      { prompt: 'p', group: 1, featuresBase64: f32(1, NaN, 3, 4) },
      { prompt: 'p', group: 1, featuresBase64: f32(1, 2, 3, 4), features: [1, 2, 3, 4] },
      { prompt: 'p', group: 1, featuresBase64: Buffer.from([1, 2, 3, 4, 5, 6]).toString('base64') },
    ] });
    const short = await rewards({ candidates: [{ prompt: 'p', group: 1, featuresBase64: f32(1, 2, 3) }] });
    expect(short.body.error.details).toEqual([{ field: 'candidates[0].featuresBase64', problems: ['candidates[0].featuresBase64 must have 4 values, got 3'] }]);
    expect(encoded.status).toBe(400);
    expect(encoded.body.error.details.map((d: any) => d.problems[0])).toEqual([
      'candidates[1].featuresBase64 must be base64 of 1 to 4096 little-endian float32 values',
      'candidates[2].featuresBase64[1] must be a finite number',
      'candidates[3] needs one of features or featuresBase64, not both',
      'candidates[4].featuresBase64 must decode to a whole number of float32 values (4 bytes each), got 6 bytes',
    ]);
    await expect(rewards({ candidates: rollouts(1, 2049, 1) })).resolves.toMatchObject({ status: 400, body: { error: { message: 'candidates must be an array of 1 to 2048 candidates' } } });
    await expect(rewards({ candidates: [] })).resolves.toMatchObject({ status: 400 });
    await expect(rewards([])).resolves.toMatchObject({ status: 400, body: { error: { details: [{ field: 'body' }] } } });
    await expect(rewards({ candidates: rollouts(1, 1, 1), modelId: '00000000-0000-4000-8000-000000000000' }))
      .resolves.toMatchObject({ status: 400, body: { error: { details: [{ field: 'modelId' }] } } });
    await expect(rewards({ candidates: rollouts(1, 1, 1) }, project.ingestKey)).resolves.toMatchObject({ status: 403 });
    await expect(rewards({ candidates: rollouts(1, 1, 1) }, null)).resolves.toMatchObject({ status: 401 });
    // A project without a production model is told so.
    const bare = await ctx.createProject(DIM, 'bare');
    await expect(rewards({ candidates: rollouts(1, 1, 1) }, bare.secretKey)).resolves.toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
  });
});
