import { selectPairs, trainRewardModel } from './bradley-terry.trainer';
import { modelCard, withPromotion } from './model-card';
import { headGate } from './promotion-gate';
import { evaluatePairs } from './pair-evaluation';
import { predict } from './predict';
import { PAIR_SPLIT } from './reward-model.types';
import { syntheticPreferences } from './synthetic-preferences';

describe('modelCard', () => {
  it('describes the model, its training, its data and its metrics against the baselines', () => {
    const data = syntheticPreferences({ nItems: 500, nPairs: 5000, dim: 6, truth: 'nonlinear', seed: 1 });
    const result = trainRewardModel(
      { ...data, pairs: data.pairs, split: data.split },
      { kind: 'mlp', hiddenLayers: [8], seed: 9, maxEpochs: 2 },
    );
    const test = selectPairs(data.pairs, data.split, PAIR_SPLIT.test);
    const scores = predict(result.model, data.features, data.nItems);
    const metrics = evaluatePairs(
      Float32Array.from(test.a, (i) => scores[i]),
      Float32Array.from(test.b, (i) => scores[i]),
      test.outcome,
    );
    const linear = { accuracy: 0.61, auc: 0.66, logLoss: 0.65, ece: 0.02 };
    const perGenerator = { accuracy: 0.55, auc: 0.57, logLoss: 0.69, ece: 0.05 };
    const { json, markdown } = modelCard({
      model: result.model,
      training: result,
      provenance: { policyVersion: 'satisfaction-v3', preferenceSetId: 'ps_1', createdAt: '2025-01-02T00:00:00.000Z' },
      metrics,
      baselines: { perGenerator: { ...perGenerator, note: 'win share of the generator that made the video' }, linear },
      promotion: { promoted: false, reason: 'too few frozen pairs', evaluationPairs: 12, pValue: 0.25 },
    });
    expect(json).toMatchObject({
      schema: 'flywheel.reward-model-card.v1',
      model: { kind: 'mlp', featureDim: 6, hiddenLayers: [8], parameters: 6 * 8 + 8 + 8 + 1, ties: null },
      training: { seed: 9, epochsRun: 2, threads: 1, stoppedBy: result.stoppedBy, bestEpoch: result.bestEpoch },
      data: { items: 500, trainPairs: result.counts.trainPairs, evaluationPairs: test.a.length },
      provenance: { policyVersion: 'satisfaction-v3', preferenceSetId: 'ps_1', modelVersion: null },
      metrics: { accuracy: metrics.accuracy, auc: metrics.auc },
      baselines: { random: { accuracy: 0.5, logLoss: Math.LN2 }, linear, perGenerator: { ...perGenerator, note: expect.any(String) } },
      promotion: { promoted: false, evaluationPairs: 12 },
    });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(markdown).toContain('# mlp reward model');
    expect(markdown).toContain('| layers | 6 → 8 → 1 (ReLU between layers) |');
    expect(markdown).toContain('| metric | this model | random | per-generator mean | linear model |');
    expect(markdown).toContain(`| pairwise accuracy | ${metrics.accuracy.toFixed(4)} | 0.5000 | 0.5500 | 0.6100 |`);
    expect(markdown).toContain('| log loss |');
    expect(markdown).toContain('| seed | 9 |');
    expect(markdown).toContain(`| epochs | best ${result.bestEpoch} of 2 run (cap 2, patience 5) |`);
    expect(markdown).toContain('| stopped by | the epoch cap');
    expect(markdown).toContain('- per-generator mean: win share of the generator that made the video');
    expect(markdown).toContain('**not promoted**: too few frozen pairs');
    expect(markdown).toContain('| evaluationPairs | 12 |');
  });

  it('renders the per-dimension promotion check as a table', () => {
    const data = syntheticPreferences({ nItems: 50, nPairs: 200, dim: 2, truth: 'linear', seed: 2 });
    const result = trainRewardModel({ ...data, pairs: data.pairs, split: data.split }, { kind: 'linear', seed: 1, maxEpochs: 1 });
    const metrics = evaluatePairs(Float32Array.of(1, 0, 2), Float32Array.of(0, 1, 1), Float32Array.of(1, 1, 1));
    const card = modelCard({ model: result.model, training: result, provenance: { policyVersion: 'v2', preferenceSetId: 'live', createdAt: '2025-01-02T00:00:00.000Z' }, metrics, baselines: {} });
    const worse = headGate('text_alignment', Float64Array.from({ length: 300 }, () => 0), Float64Array.from({ length: 300 }, () => 1), { heads: 2 });
    const few = headGate('visual_quality', new Float64Array(20), new Float64Array(20), { heads: 2 });
    const { markdown } = withPromotion(card.json, { promoted: false, reason: 'a head is worse', heads: [worse, few] });
    expect(markdown).toContain('### Per dimension');
    expect(markdown).toContain('| text_alignment | 300 | 0.0000 | 1.0000 | -100.00 | -100.00 | yes | **yes** |');
    expect(markdown).toContain('| visual_quality | 20 | 0.0000 | 0.0000 | 0.00 | 0.00 | no | no |');
  });
});
