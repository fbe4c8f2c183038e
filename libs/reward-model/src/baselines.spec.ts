import { bestSingleFeature, logisticRegressionBt, perGeneratorScores } from './baselines';
import { selectPairs } from './bradley-terry.trainer';
import { evaluatePairs } from './pair-evaluation';
import { predict } from './predict';
import { PAIR_SPLIT } from './reward-model.types';
import { syntheticPreferences } from './synthetic-preferences';

describe('baselines', () => {
  const data = syntheticPreferences({ nItems: 600, nPairs: 6000, dim: 5, truth: 'linear', seed: 4 });
  const train = selectPairs(data.pairs, data.split, PAIR_SPLIT.train);
  const test = selectPairs(data.pairs, data.split, PAIR_SPLIT.test);
  const accuracyOf = (scores: Float32Array) =>
    evaluatePairs(Float32Array.from(test.a, (i) => scores[i]), Float32Array.from(test.b, (i) => scores[i]), test.outcome).accuracy;

  it('per-generator mean: a generator that always wins outranks one that always loses; an unseen one scores ½', () => {
    const generatorOf = Int32Array.of(0, 1, 0, 1, 2);
    const pairs = { a: Int32Array.of(0, 2, 1), b: Int32Array.of(1, 3, 2), outcome: Float32Array.of(1, 1, 0) };
    const scores = perGeneratorScores(generatorOf, pairs);
    expect(scores[0]).toBeCloseTo((3 + 1) / (3 + 2));
    expect(scores[1]).toBeCloseTo((0 + 1) / (3 + 2));
    expect(scores[4]).toBe(0.5);
  });

  it('best single feature: finds the feature and its sign from the training pairs', () => {
    // Item quality is −feature 3: the feature with the reversed sign orders pairs perfectly.
    const n = 50;
    const features = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) features.set([Math.sin(i), (i * 7) % 5, Math.cos(3 * i), -i], i * 4);
    const a = Int32Array.from({ length: 200 }, (_, p) => (p * 13) % n);
    const b = Int32Array.from({ length: 200 }, (_, p) => (p * 29 + 1) % n);
    const outcome = Float32Array.from(a, (ai, p) => (ai === b[p] ? 0.5 : ai > b[p] ? 1 : 0));
    const best = bestSingleFeature(features, n, 4, { a, b, outcome });
    expect(best).toMatchObject({ feature: 3, sign: -1, trainAccuracy: 1 });
    expect(best.scores[10]).toBe(10);
  });

  it('logistic regression: reaches the optimum of its objective (zero gradient) and near-Bayes accuracy', () => {
    const { model, iterations } = logisticRegressionBt(data.features, data.nItems, data.dim, train);
    expect(iterations).toBeLessThan(20);
    const scores = predict(model, data.features, data.nItems);
    // Gradient of Σ logloss + ½‖β_std‖² in raw-feature weights: the weights on standardised features are w·std.
    const w = model.layers[0].weights;
    const gradient = new Float64Array(data.dim);
    for (let p = 0; p < train.a.length; p++) {
      const d = scores[train.a[p]] - scores[train.b[p]];
      const g = 1 / (1 + Math.exp(-d)) - train.outcome[p];
      for (let k = 0; k < data.dim; k++) gradient[k] += g * (data.features[train.a[p] * data.dim + k] - data.features[train.b[p] * data.dim + k]);
    }
    const used = new Set([...train.a, ...train.b]);
    for (let k = 0; k < data.dim; k++) {
      let sum = 0;
      let sq = 0;
      for (const i of used) sum += data.features[i * data.dim + k];
      const mean = sum / used.size;
      for (const i of used) sq += (data.features[i * data.dim + k] - mean) ** 2;
      const std = Math.sqrt(sq / used.size);
      // d/dw_k of ½(w_k·std_k)² is w_k·std_k²; the loss gradient in raw weights is Σ g·Δx_k.
      expect(Math.abs(gradient[k] + w[k] * std * std)).toBeLessThan(1e-2 * Math.max(1, Math.abs(gradient[k])));
    }
    expect(accuracyOf(scores)).toBeGreaterThan(accuracyOf(data.truth) - 0.02);
  });
});
