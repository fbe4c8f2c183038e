/**
 * @jest-environment ./libs/reward-model/src/onnxruntime.jest-environment.js
 */
import { randomUUID } from 'node:crypto';
import {
  CreatedProject, EvidenceRepository, ModelsRepository, PreferenceSetsRepository, SatisfactionRepository,
} from '@flywheel/database';
import { buildPreferenceSet } from '@flywheel/preference-sets';
import { perUserPairs, promoteIfBetter, trainProject } from '@flywheel/training';
import { RewardScorer, parseRewardModelMetadata, readOnnxMetadata, writeOnnx } from '@flywheel/reward-model';
import { TestContext, prng } from './support/harness';

/**
 * Training honesty, in-process against the real PostgreSQL: a preference set is trained on (its pairs, its splits)
 * or the run is refused; same set + seed → same ONNX bytes and the same registry entry; the file names its entry;
 * stopping, baselines and the promotion decision are in the card; ties and undefined accuracy are never decided.
 */
describe('reward-model training', () => {
  const ctx = new TestContext('training');
  let project: CreatedProject;
  let deps: { evidence: EvidenceRepository; models: ModelsRepository; sets: PreferenceSetsRepository };
  let setId: string;
  const REQUESTS = 120;

  /** Generations and per-(video, user) satisfaction, as the ingest-worker would leave them. */
  async function seed(
    projectId: string, satisfactionOf: (q: number, u: number, r: number) => number,
    ratingsOf: (features: number[], u: number) => Record<string, number> = () => ({}),
  ): Promise<void> {
    const random = prng(17);
    const generations: unknown[][] = [];
    const signals: unknown[][] = [];
    for (let r = 0; r < REQUESTS; r++) {
      for (let c = 0; c < 4; c++) {
        const q = random();
        const videoId = `v${r}-${c}`;
        const features = [q, random(), random() - 0.5, r / REQUESTS];
        generations.push([videoId, `req${r}`, `prompt ${r % 60}`, c % 2 ? 'gen-a' : 'gen-b', features]);
        for (let u = 0; u < 3; u++) signals.push([videoId, `user${(r + u) % 13}`, satisfactionOf(q, u, r), ratingsOf(features, u)]);
      }
    }
    await ctx.db.query(
      `INSERT INTO generations (project_id, video_id, request_id, prompt, prompt_norm, model, model_version, features, created_at, received_at)
       SELECT $1, g->>0, g->>1, g->>2, g->>2, g->>3, '1.0', ARRAY(SELECT jsonb_array_elements_text(g->4)::real), now(), now()
         FROM jsonb_array_elements($2::jsonb) AS g`,
      [projectId, JSON.stringify(generations)],
    );
    await ctx.db.query(
      `INSERT INTO video_user_signals (project_id, video_id, user_hash, satisfaction, policy_id, dimension_ratings, first_event_at, last_event_at)
       SELECT $1, s->>0, s->>1, (s->>2)::real, 'v2', s->3, now(), now() FROM jsonb_array_elements($2::jsonb) AS s`,
      [projectId, JSON.stringify(signals)],
    );
  }

  async function buildSet(projectId: string, request: Record<string, unknown>): Promise<string> {
    const created = await deps.sets.create(projectId, request);
    // Every file of a run shares its database, and an earlier file may have left sets queued (a trainer it stopped
    // before building them): the queue is oldest first, so claim past those until this one comes up.
    let claimed = await deps.sets.claimBuild(60_000);
    for (let i = 0; claimed && claimed.id !== created.id && i < 1000; i++) claimed = await deps.sets.claimBuild(60_000);
    expect(claimed?.id).toBe(created.id);
    await buildPreferenceSet({ ...deps, satisfaction: ctx.db.make(SatisfactionRepository) }, claimed!, request);
    return created.id;
  }

  beforeAll(async () => {
    await ctx.setUp();
    deps = { evidence: ctx.db.make(EvidenceRepository), models: ctx.db.make(ModelsRepository), sets: ctx.db.make(PreferenceSetsRepository) };
    project = await ctx.createProject(4);
    const noise = prng(5);
    // Noisy users: satisfaction follows feature 0 (the latent quality) only on average, as real feedback does.
    await seed(project.projectId, (q) => Math.tanh(3 * (q - 0.5) + 1.5 * (noise() - 0.5)));
    setId = await buildSet(project.projectId, { scopes: ['request', 'prompt'], minMargin: 0.05, includeTies: true, seed: 7 });
  }, 120000);
  afterAll(() => ctx.tearDown(), 30000);

  it('trains on a preference set: its pairs and splits, recorded in the registry and the ONNX file', async () => {
    const set = (await deps.sets.find(project.projectId, setId))!;
    const counts = (set.manifest as { counts: { pairs: number; ties: number; bySplit: Record<string, number> } }).counts;
    expect(counts.ties).toBeGreaterThan(0);
    const outcome = await trainProject(deps, project.projectId, 4, { kind: 'linear', seed: 3, preferenceSetId: setId, ties: 'davidson', promote: false });
    expect(outcome.pairs).toEqual({ train: counts.bySplit.train ?? 0, validation: counts.bySplit.validation ?? 0, test: counts.bySplit.test ?? 0 });
    expect(outcome.model).toMatchObject({ preferenceSetId: setId, version: 1, status: 'candidate' });
    const meta = parseRewardModelMetadata(readOnnxMetadata((await deps.models.onnx(project.projectId, outcome.model.id))!));
    expect(meta).toMatchObject({ preferenceSetId: setId, registry: { modelId: outcome.model.id, version: 1, projectId: project.projectId } });
    // Without a tie model the set's tie pairs are left out, and the registry says how many.
    const plain = await trainProject(deps, project.projectId, 4, { kind: 'linear', seed: 3, preferenceSetId: setId, promote: false });
    expect(plain.pairs.train + plain.pairs.validation + plain.pairs.test).toBe(counts.pairs - counts.ties);
    expect(plain.model.metrics).toMatchObject({ droppedTies: counts.ties });
  }, 120000);

  it('reproduces: the same set and seed give the same bytes and find their registry entry; another seed does not', async () => {
    const request = { kind: 'mlp' as const, hiddenLayers: [8], seed: 11, preferenceSetId: setId, promote: false };
    const first = await trainProject(deps, project.projectId, 4, request);
    const bytes = (await deps.models.onnx(project.projectId, first.model.id))!;
    const again = await trainProject(deps, project.projectId, 4, request);
    expect(again).toMatchObject({ reproduced: true, model: { id: first.model.id, version: first.model.version } });
    expect((await deps.models.onnx(project.projectId, again.model.id))!.equals(bytes)).toBe(true);
    expect(again.metrics).toEqual(first.metrics);
    const other = await trainProject(deps, project.projectId, 4, { ...request, seed: 12 });
    expect(other.reproduced).toBe(false);
    expect(other.model.id).not.toBe(first.model.id);
  }, 180000);

  it('fits a linear model exactly with solver exact: converged, L2 chosen on the validation pairs, the same bytes again', async () => {
    const request = { kind: 'linear' as const, solver: 'exact' as const, seed: 4, preferenceSetId: setId, promote: false };
    const first = await trainProject(deps, project.projectId, 4, request);
    const { card, markdown } = (await deps.models.card(project.projectId, first.model.id))! as { card: any; markdown: string };
    expect(card.training).toMatchObject({ stoppedBy: 'converged', options: { solver: 'exact', l2: expect.any(Number) } });
    expect(markdown).toContain('| stopped by | convergence of the exact solver');
    expect(first.metrics.accuracy).toBeGreaterThan(card.baselines.perGenerator.accuracy);
    const again = await trainProject(deps, project.projectId, 4, request);
    expect(again).toMatchObject({ reproduced: true, model: { id: first.model.id } });
  }, 120000);

  it("trains on each user's own comparisons with pairs per-user, validated and tested on the aggregate pairs", async () => {
    const aggregate = await trainProject(deps, project.projectId, 4, { kind: 'linear', seed: 5, promote: false });
    const outcome = await trainProject(deps, project.projectId, 4, { kind: 'linear', seed: 5, pairs: 'per-user', promote: false });
    const rows = await deps.evidence.videos(project.projectId, {});
    const index = new Map(rows.map((r, i) => [r.videoId, i]));
    const ratings = await deps.evidence.userRatings(project.projectId, {});
    expect(ratings).toHaveLength(REQUESTS * 4 * 3);
    const perUser = perUserPairs(rows, ratings, (r) => r.satisfaction, index, 1, 0.05);
    expect(outcome.pairs).toEqual({ train: perUser.split.filter((c) => c === 0).length, validation: aggregate.pairs.validation, test: aggregate.pairs.test });
    expect(outcome.pairs.train).toBeGreaterThan(aggregate.pairs.train);
    expect(outcome.metrics.pairs).toBe(aggregate.metrics.pairs);
    expect(outcome.metrics.accuracy).toBeGreaterThan(outcome.baselines.perGenerator.accuracy);
    await expect(trainProject(deps, project.projectId, 4, { kind: 'linear', pairs: 'per-user', preferenceSetId: setId })).rejects.toMatchObject({ code: 'UNSUPPORTED_OPTION', details: { field: 'pairs' } });
    await expect(trainProject(deps, project.projectId, 4, { kind: 'linear', pairs: 'per-user', ties: 'davidson' })).rejects.toMatchObject({ code: 'UNSUPPORTED_OPTION', details: { field: 'pairs' } });
  }, 120000);

  it('refuses what it cannot honour, with a clear error', async () => {
    const train = (request: Record<string, unknown>) => trainProject(deps, project.projectId, 4, request);
    await expect(train({ kind: 'linear', preferenceSetId: randomUUID() })).rejects.toMatchObject({ code: 'PREFERENCE_SET_NOT_FOUND', details: { field: 'preferenceSetId' } });
    await expect(train({ kind: 'linear', preferenceSetId: setId, minMargin: 0.2 })).rejects.toMatchObject({ code: 'UNSUPPORTED_OPTION', details: { field: 'minMargin' } });
    await expect(train({ kind: 'linear', learningRate: 0.5 })).rejects.toMatchObject({ code: 'UNSUPPORTED_OPTION', message: expect.stringContaining('learningRate') });
    await expect(train({ solver: 'exact' })).rejects.toMatchObject({ code: 'UNSUPPORTED_OPTION', details: { field: 'solver' } });
    await expect(train({ kind: 'linear', solver: 'exact', ties: 'davidson' })).rejects.toMatchObject({ code: 'UNSUPPORTED_OPTION', details: { field: 'solver' } });
    const queued = await deps.sets.create(project.projectId, {});
    await expect(train({ kind: 'linear', preferenceSetId: queued.id })).rejects.toMatchObject({ code: 'PREFERENCE_SET_NOT_READY' });
    await deps.sets.fail(queued.id, 'not needed', 0);
  }, 60000);

  it('stops by validation loss at default settings and reports the baselines and the gate decision in the card', async () => {
    const outcome = await trainProject(deps, project.projectId, 4, { kind: 'linear', seed: 5 });
    const { card, markdown } = (await deps.models.card(project.projectId, outcome.model.id))! as { card: any; markdown: string };
    expect(card.training).toMatchObject({ stoppedBy: 'patience' });
    expect(card.training.epochsRun).toBe(card.training.bestEpoch + card.training.options.patience);
    expect(card.training.epochsRun).toBeLessThan(card.training.options.maxEpochs);
    expect(Object.keys(card.baselines)).toEqual(['random', 'perGenerator', 'bestSingleFeature', 'logisticRegression']);
    expect(card.baselines.bestSingleFeature.note).toContain('feature 0');
    // The latent quality is feature 0: the model and the outsider's logistic regression both see it.
    expect(outcome.metrics.accuracy).toBeGreaterThan(card.baselines.perGenerator.accuracy);
    expect(Math.abs(outcome.metrics.accuracy - card.baselines.logisticRegression.accuracy)).toBeLessThan(0.05);
    expect(markdown).toContain('| stopped by | validation loss');
    // Every earlier run had promote: false, so this is the project's first production model.
    expect(outcome.promotion).toMatchObject({ promoted: true, reason: expect.stringContaining('first model') });
    const second = await trainProject(deps, project.projectId, 4, { kind: 'mlp', hiddenLayers: [8], seed: 6 });
    expect(second.promotion).toMatchObject({ promoted: false, statistics: { decisivePairs: expect.any(Number), minPairs: 200 } });
    expect(second.promotion!.reason).toMatch(/only \d+ decisive frozen pairs/);
    const stored = (await deps.models.find(project.projectId, second.model.id))!;
    expect(stored.metrics).toMatchObject({ promotion: { promoted: false, productionModelId: outcome.model.id, minPairs: 200 } });
    const secondCard = (await deps.models.card(project.projectId, second.model.id))!;
    expect(secondCard.markdown).toContain('## Promotion');
    expect(secondCard.markdown).toContain('**not promoted**');
  }, 180000);

  it('never promotes a model whose accuracy is undefined (every evaluation pair a tie)', async () => {
    const other = await ctx.createProject(2, 'undefined-accuracy');
    const featuresA = Float32Array.from({ length: 40 }, (_, i) => i);
    const evaluationSetId = await deps.models.saveEvaluationSet(other.projectId, {
      featureDim: 2, pairs: 20, featuresA, featuresB: featuresA.map((x) => x + 1), outcome: new Float32Array(20).fill(0.5), weight: new Float32Array(20).fill(1),
    });
    const model = { kind: 'linear' as const, inputDim: 2, hiddenLayers: [], layers: [{ inDim: 2, outDim: 1, weights: Float32Array.of(1, 0), bias: new Float32Array(1) }] };
    const onnx = writeOnnx(model, { policyVersion: 'v1', preferenceSetId: 'live', metrics: {}, seed: 1, createdAt: new Date(0) });
    const row = await deps.models.insert(
      { id: randomUUID(), projectId: other.projectId, kind: 'linear', featureDim: 2, policyId: 'v1', preferenceSetId: null, metrics: {}, evaluationSetId },
      () => ({ onnx, card: { training: {}, baselines: {} }, cardMarkdown: '' }),
    );
    const decision = await promoteIfBetter(deps.models, other.projectId, row.id);
    expect(decision).toMatchObject({ promoted: false, reason: expect.stringContaining('never promoted') });
    expect(Number.isNaN(decision.candidate.accuracy)).toBe(true);
    await expect(deps.models.production(other.projectId)).resolves.toBeNull();
  }, 60000);

  it('trains one head per declared dimension on the pairs labelled for it: rewards [N, K] in the ONNX, accuracy per head in the card', async () => {
    const rated = await ctx.createProject(4, 'heads');
    const noise = prng(9);
    // visual_quality follows feature 1, motion_quality feature 2; text_alignment is declared but nobody rated it.
    await seed(rated.projectId, (q) => Math.tanh(3 * (q - 0.5)), (f) => ({
      visual_quality: Math.max(1, Math.min(5, Math.round(1 + 4 * f[1] + (noise() - 0.5)))),
      motion_quality: Math.max(1, Math.min(5, Math.round(3 + 4 * f[2] + (noise() - 0.5)))),
    }));
    const shape = { featureDim: 4, ratingDimensions: ['visual_quality', 'motion_quality', 'text_alignment'] };
    const outcome = await trainProject(deps, rated.projectId, shape, { kind: 'linear', seed: 2, promote: false });
    expect(outcome.heads.map((h) => [h.name, h.trained])).toEqual([['visual_quality', true], ['motion_quality', true], ['text_alignment', false]]);
    expect(outcome.heads[0].metrics!.accuracy).toBeGreaterThan(0.8);
    expect(outcome.heads[1].metrics!.accuracy).toBeGreaterThan(0.8);
    expect(outcome.heads[2].reason).toContain('0 train and 0 test pairs labelled for text_alignment');
    const scorer = await RewardScorer.create((await deps.models.onnx(rated.projectId, outcome.model.id))!);
    try {
      expect(scorer.dimensions).toEqual(shape.ratingDimensions);
      // Two candidates differing only in feature 1: the visual head prefers the first, motion and alignment do not care.
      const { reward, rewards } = await scorer.scoreAll(Float32Array.of(0.5, 0.9, 0, 0.5, 0.5, 0.1, 0, 0.5), 2);
      expect(reward).toHaveLength(2);
      expect(rewards).toHaveLength(6);
      expect(rewards[0]).toBeGreaterThan(rewards[3]);
      expect(rewards[2]).toBe(0);
    } finally {
      await scorer.release();
    }
    const card = (await deps.models.card(rated.projectId, outcome.model.id))!;
    expect(card.markdown).toContain('## Dimension heads');
    expect(card.markdown).toMatch(/\| visual_quality \| \d+ \/ \d+ \/ \d+ \| 0\.\d{4} \|/);
  }, 120000);

  it('blocks a candidate whose dimension head is significantly worse than production\'s, though it is better overall', async () => {
    const gated = await ctx.createProject(3, 'head-gate');
    const random = prng(23);
    const n = 300;
    // Frozen pairs: overall, a is preferred when f0 + f2 is larger; visual_quality, when f1 is larger.
    const featuresA = Float32Array.from({ length: n * 3 }, () => random());
    const featuresB = Float32Array.from({ length: n * 3 }, () => random());
    const prefer = (i: number, score: (f: Float32Array, o: number) => number) => (score(featuresA, 3 * i) > score(featuresB, 3 * i) ? 1 : 0);
    const overallOutcome = Float32Array.from({ length: n }, (_, i) => prefer(i, (f, o) => f[o] + f[o + 2]));
    const visualOutcome = Float32Array.from({ length: n }, (_, i) => prefer(i, (f, o) => f[o + 1]));
    const linear = (...w: number[]) => ({ kind: 'linear' as const, inputDim: 3, hiddenLayers: [], layers: [{ inDim: 3, outDim: 1, weights: Float32Array.from(w), bias: new Float32Array(1) }] });
    const register = async (overall: number[], visual: number[], promoted: boolean) => {
      const evaluationSetId = await deps.models.saveEvaluationSet(gated.projectId, { featureDim: 3, pairs: n, featuresA, featuresB, outcome: overallOutcome, weight: new Float32Array(n).fill(1) });
      await deps.models.saveEvaluationSet(gated.projectId, { featureDim: 3, pairs: n, featuresA, featuresB, outcome: visualOutcome, weight: new Float32Array(n).fill(1) }, { of: evaluationSetId, dimension: 'visual_quality' });
      const onnx = writeOnnx(linear(...overall), { policyVersion: 'v2', preferenceSetId: 'live', metrics: {}, seed: 1, createdAt: new Date(0) }, [
        { name: 'visual_quality', model: linear(...visual) }, { name: 'motion_quality', model: linear(0, 0, 0) },
      ]);
      const row = await deps.models.insert(
        { id: randomUUID(), projectId: gated.projectId, kind: 'linear', featureDim: 3, policyId: 'v2', preferenceSetId: null, metrics: {}, evaluationSetId },
        () => ({ onnx, card: { training: {}, baselines: {} }, cardMarkdown: '' }),
      );
      if (promoted) await deps.models.promote(gated.projectId, row.id, 'test production');
      return row.id;
    };
    // Production: overall from f0 only (about 80% right), a visual head that is always right.
    await register([1, 0, 0], [0, 1, 0], true);
    // Candidate 1: overall exactly right (clearly better), but its visual head ranks backwards.
    const backwards = await register([1, 0, 1], [0, -1, 0], false);
    const blocked = await promoteIfBetter(deps.models, gated.projectId, backwards);
    expect(blocked.statistics!.difference).toBeGreaterThan(0.1);
    expect(blocked.promoted).toBe(false);
    expect(blocked.reason).toContain('significantly not worse and better');
    expect(blocked.reason).toContain('but the visual_quality head is significantly worse than production\'s');
    expect(blocked.heads).toEqual([expect.objectContaining({ name: 'visual_quality', gated: true, worse: true, decisivePairs: n, candidateAccuracy: 0, productionAccuracy: 1 })]);
    const card = (await deps.models.card(gated.projectId, backwards))!;
    // A hand-registered model keeps its markdown; the decision with its per-head statistics is in the card's JSON.
    expect((card.card as { promotion: { heads: unknown[] } }).promotion.heads).toEqual([expect.objectContaining({ name: 'visual_quality', worse: true })]);
    // Candidate 2: the same overall gain with a visual head as good as production's: promoted.
    const good = await register([1, 0, 1], [0, 1, 0], false);
    const decision = await promoteIfBetter(deps.models, gated.projectId, good);
    expect(decision).toMatchObject({ promoted: true, heads: [expect.objectContaining({ name: 'visual_quality', gated: true, worse: false, difference: 0 })] });
  }, 60000);

  it('refuses a project whose pairs are all ties, saying so', async () => {
    const flat = await ctx.createProject(4, 'all-ties');
    await seed(flat.projectId, () => 0.25);
    await expect(trainProject(deps, flat.projectId, 4, { kind: 'linear', ties: 'davidson' })).rejects.toMatchObject({
      code: 'ALL_TIES', message: expect.stringContaining('is a tie'),
    });
  }, 60000);
});
