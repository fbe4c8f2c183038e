/**
 * @jest-environment ./libs/reward-model/src/onnxruntime.jest-environment.js
 */
import { onnxSchema } from './onnx.schema';
import { writeOnnx, type RewardModelProvenance } from './onnx-writer';
import { predict } from './predict';
import { RewardScorer } from './reward-scorer';
import { randomFeatures, randomRewardModel } from './random-model.testing';

const provenance: RewardModelProvenance = {
  policyVersion: 'satisfaction-v3',
  preferenceSetId: 'ps_01',
  metrics: { accuracy: 0.71 },
  seed: 7,
  createdAt: '2025-01-02T03:04:05.000Z',
};

describe('RewardScorer (onnxruntime-node)', () => {
  const dim = 12;
  it.each([
    ['linear', [dim, 1]],
    ['mlp', [dim, 16, 1]],
    ['mlp with two hidden layers', [dim, 8, 4, 1]],
  ])('scores like predict() for a %s model, batches of 1 and 1,000', async (_, dims) => {
    const model = randomRewardModel(dims, 3);
    const scorer = await RewardScorer.create(writeOnnx(model, provenance));
    try {
      for (const n of [1, 1000]) {
        const features = randomFeatures(n, dim, n);
        const expected = predict(model, features, n);
        const actual = await scorer.score(features, n);
        expect(actual).toHaveLength(n);
        let worst = 0;
        for (let i = 0; i < n; i++) {
          worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
        }
        expect(worst).toBeLessThan(1e-5);
      }
    } finally {
      await scorer.release();
    }
  });

  it('reuses its session across calls and exposes the model metadata', async () => {
    const scorer = await RewardScorer.create(writeOnnx(randomRewardModel([dim, 4, 1], 1), provenance));
    const features = randomFeatures(3, dim, 1);
    const first = await scorer.score(features, 3);
    const [second, third] = await Promise.all([scorer.score(features, 3), scorer.score(features, 3)]);
    expect(Array.from(second)).toEqual(Array.from(first));
    expect(Array.from(third)).toEqual(Array.from(first));
    expect(scorer.featureDim).toBe(dim);
    expect(scorer.metadata).toMatchObject({ modelKind: 'mlp', hiddenLayers: [4], policyVersion: 'satisfaction-v3' });
    expect(await scorer.score(new Float32Array(0), 0)).toHaveLength(0);
    await scorer.release();
    await expect(scorer.score(features, 3)).rejects.toMatchObject({ code: 'SCORER_RELEASED' });
  });

  it('rejects input of the wrong dimension with a clear error', async () => {
    const scorer = await RewardScorer.create(writeOnnx(randomRewardModel([dim, 1], 2), provenance));
    try {
      await expect(scorer.score(randomFeatures(2, dim + 1, 1), 2)).rejects.toMatchObject({
        code: 'FEATURE_DIM_MISMATCH',
        message: 'expected 2 rows of 12 features (24 values), got 26 values',
      });
      await expect(scorer.score(randomFeatures(2, dim, 1), 3)).rejects.toMatchObject({ code: 'FEATURE_DIM_MISMATCH' });
    } finally {
      await scorer.release();
    }
  });

  it('refuses bytes that are not a flywheel reward model', async () => {
    await expect(RewardScorer.create(Uint8Array.from([1, 2, 3, 4, 5]))).rejects.toMatchObject({ code: 'INVALID_ONNX' });
  });

  it('serves dimension heads: rewards float32 [N, K] in metadata order next to reward [N], each like predict()', async () => {
    const overall = randomRewardModel([dim, 8, 1], 11);
    const heads = [
      { name: 'visual_quality', model: randomRewardModel([dim, 1], 12) },
      { name: 'motion_quality', model: randomRewardModel([dim, 6, 1], 13) },
      { name: 'text_alignment', model: randomRewardModel([dim, 1], 14) },
    ];
    const scorer = await RewardScorer.create(writeOnnx(overall, provenance, heads));
    try {
      expect(scorer.dimensions).toEqual(['visual_quality', 'motion_quality', 'text_alignment']);
      const n = 50;
      const features = randomFeatures(n, dim, 9);
      const { reward, rewards } = await scorer.scoreAll(features, n);
      expect(reward).toHaveLength(n);
      expect(rewards).toHaveLength(n * 3);
      const expectedOverall = predict(overall, features, n);
      heads.forEach((head, k) => {
        const expected = predict(head.model, features, n);
        for (let i = 0; i < n; i++) expect(rewards[i * 3 + k]).toBeCloseTo(expected[i], 4);
      });
      for (let i = 0; i < n; i++) expect(reward[i]).toBeCloseTo(expectedOverall[i], 4);
    } finally {
      await scorer.release();
    }
  });

  it('packs linear heads into one [D, K] product: same rewards as each head alone, one MatMul for all of them', async () => {
    const overall = randomRewardModel([dim, 1], 21);
    const heads = ['a', 'b', 'c', 'd'].map((name, k) => ({ name, model: randomRewardModel([dim, 1], 30 + k) }));
    const bytes = writeOnnx(overall, provenance, heads);
    const { ModelProto } = onnxSchema();
    const graph = (ModelProto.toObject(ModelProto.decode(bytes)) as { graph: { node: Array<{ op_type: string }> } }).graph;
    // One MatMul for the overall model and one for the four heads; no Concat.
    expect(graph.node.map((n) => n.op_type).filter((op) => op === 'MatMul' || op === 'Concat')).toEqual(['MatMul', 'MatMul']);
    const scorer = await RewardScorer.create(bytes);
    try {
      const n = 40;
      const features = randomFeatures(n, dim, 10);
      const { rewards } = await scorer.scoreAll(features, n);
      expect(rewards).toHaveLength(n * 4);
      heads.forEach((head, k) => {
        const expected = predict(head.model, features, n);
        for (let i = 0; i < n; i++) expect(rewards[i * 4 + k]).toBeCloseTo(expected[i], 4);
      });
    } finally {
      await scorer.release();
    }
  });
});
