import { pairLoss } from './bradley-terry.loss';
import { logisticRegressionBt } from './baselines';
import { defaultBatchSize, selectPairs, trainRewardModel, type TrainOptions } from './bradley-terry.trainer';
import { EXACT_L2_GRID } from './exact-linear';
import { evaluatePairs } from './pair-evaluation';
import { predict } from './predict';
import { RewardModelError } from './reward-model.errors';
import { PAIR_SPLIT, type PreferencePairs, type RewardModel } from './reward-model.types';
import { standardiseFeatures } from './standardisation';
import { syntheticPreferences, type SyntheticPreferences } from './synthetic-preferences';

function testAccuracy(data: SyntheticPreferences, scores: Float32Array): number {
  const test = selectPairs(data.pairs, data.split, PAIR_SPLIT.test);
  const scoresA = Float32Array.from(test.a, (i) => scores[i]);
  const scoresB = Float32Array.from(test.b, (i) => scores[i]);
  return evaluatePairs(scoresA, scoresB, test.outcome).accuracy;
}

function bytesOf(model: RewardModel): Buffer {
  return Buffer.concat(model.layers.flatMap((l) => [Buffer.from(l.weights.buffer), Buffer.from(l.bias.buffer)]));
}

function meanLoss(model: RewardModel, data: SyntheticPreferences, pairs: PreferencePairs): number {
  const scores = predict(model, data.features, data.nItems);
  let sum = 0;
  for (let p = 0; p < pairs.a.length; p++) sum += pairLoss(scores[pairs.a[p]] - scores[pairs.b[p]], pairs.outcome[p]);
  return sum / pairs.a.length;
}

describe('trainRewardModel', () => {
  const linearData = syntheticPreferences({ nItems: 4000, nPairs: 60_000, dim: 16, truth: 'linear', seed: 1 });
  const splitData = (data: SyntheticPreferences) => ({ ...data, pairs: data.pairs, split: data.split });

  it('recovers the direction of a linear truth and reaches Bayes accuracy', () => {
    const result = trainRewardModel(splitData(linearData), { kind: 'linear', seed: 3 });
    const w = result.standardisedModel.layers[0].weights;
    let dot = 0;
    let norm = 0;
    for (let k = 0; k < w.length; k++) {
      dot += w[k] * linearData.direction[k];
      norm += w[k] * w[k];
    }
    expect(dot / Math.sqrt(norm)).toBeGreaterThan(0.95);
    const accuracy = testAccuracy(linearData, predict(result.model, linearData.features, linearData.nItems));
    const bayes = testAccuracy(linearData, linearData.truth);
    expect(accuracy).toBeGreaterThan(bayes - 0.015);
    expect(result.counts.trainPairs + result.counts.validationPairs).toBeLessThan(60_000);
    expect(result.history.length).toBeGreaterThan(0);
  });

  it('is reproducible bit for bit from its seed', () => {
    const small = syntheticPreferences({ nItems: 800, nPairs: 8000, dim: 8, truth: 'nonlinear', seed: 2 });
    for (const options of [
      { kind: 'linear', seed: 5, maxEpochs: 3 },
      { kind: 'mlp', hiddenLayers: [16], seed: 5, maxEpochs: 3 },
    ] as TrainOptions[]) {
      const first = trainRewardModel(splitData(small), options);
      const second = trainRewardModel(splitData(small), options);
      expect(bytesOf(first.model).equals(bytesOf(second.model))).toBe(true);
      expect(first.history.map((h) => h.validationLoss)).toEqual(second.history.map((h) => h.validationLoss));
    }
    const other = trainRewardModel(splitData(small), { kind: 'mlp', hiddenLayers: [16], seed: 6, maxEpochs: 3 });
    const base = trainRewardModel(splitData(small), { kind: 'mlp', hiddenLayers: [16], seed: 5, maxEpochs: 3 });
    expect(bytesOf(other.model).equals(bytesOf(base.model))).toBe(false);
  });

  it('learns a non-linear truth with an MLP better than a linear model', () => {
    const data = syntheticPreferences({ nItems: 3000, nPairs: 60_000, dim: 8, truth: 'nonlinear', seed: 4 });
    const linear = trainRewardModel(splitData(data), { kind: 'linear', seed: 1 });
    const mlp = trainRewardModel(splitData(data), { kind: 'mlp', hiddenLayers: [32], seed: 1, maxEpochs: 8 });
    const linearAccuracy = testAccuracy(data, predict(linear.model, data.features, data.nItems));
    const mlpAccuracy = testAccuracy(data, predict(mlp.model, data.features, data.nItems));
    expect(mlpAccuracy).toBeGreaterThan(linearAccuracy + 0.03);
  });

  it('returns a model on raw features equal to the standardised model on standardised features', () => {
    const data = syntheticPreferences({ nItems: 500, nPairs: 5000, dim: 8, truth: 'nonlinear', seed: 8 });
    const result = trainRewardModel(splitData(data), { kind: 'mlp', hiddenLayers: [12, 6], seed: 2, maxEpochs: 2 });
    const raw = predict(result.model, data.features, data.nItems);
    const standardised = predict(
      result.standardisedModel,
      standardiseFeatures(data.features, data.nItems, result.standardisation),
      data.nItems,
    );
    for (let i = 0; i < data.nItems; i++) {
      expect(Math.abs(raw[i] - standardised[i])).toBeLessThan(1e-4 * (1 + Math.abs(standardised[i])));
    }
  });

  it('stops a converging run by validation loss at default settings, never by the epoch cap', () => {
    const data = syntheticPreferences({ nItems: 1000, nPairs: 12_000, dim: 8, truth: 'linear', seed: 11 });
    for (const kind of ['linear', 'mlp'] as const) {
      const result = trainRewardModel(splitData(data), { kind, hiddenLayers: kind === 'mlp' ? [16] : undefined, seed: 2 });
      expect(result.stoppedBy).toBe('patience');
      expect(result.history.length).toBeLessThan(result.options.maxEpochs);
      expect(result.history.length).toBe(result.bestEpoch + result.options.patience);
    }
  });

  it('takes at least 32 steps per epoch on a small set by default, so patience counts real progress', () => {
    const small = syntheticPreferences({ nItems: 300, nPairs: 1200, dim: 4, truth: 'linear', seed: 5 });
    const result = trainRewardModel(splitData(small), { kind: 'linear', seed: 1 });
    const steps = Math.ceil(result.counts.trainPairs / result.options.batchSize);
    expect(steps).toBeGreaterThanOrEqual(32);
    expect(result.options.batchSize).toBe(defaultBatchSize(result.counts.trainPairs));
    // Large sets keep 1024-pair batches; an explicit batch size is kept as given.
    expect(defaultBatchSize(1_000_000)).toBe(1024);
    expect(defaultBatchSize(100)).toBe(32);
    expect(trainRewardModel(splitData(small), { kind: 'linear', seed: 1, batchSize: 1024 }).options.batchSize).toBe(1024);
  });

  it('says the cap stopped a run that was still improving', () => {
    const result = trainRewardModel(splitData(linearData), { kind: 'linear', seed: 3, maxEpochs: 2 });
    expect(result).toMatchObject({ stoppedBy: 'max-epochs', stoppedEarly: false, bestEpoch: 2 });
  });

  it('refuses a training set where every pair is a tie, with a message that says so', () => {
    const ties = { ...linearData.pairs, outcome: new Float32Array(linearData.pairs.a.length).fill(0.5) };
    for (const options of [{ kind: 'linear' }, { kind: 'linear', ties: { model: 'davidson' } }] as TrainOptions[]) {
      expect(() => trainRewardModel({ ...linearData, pairs: ties, split: linearData.split }, options)).toThrow(
        expect.objectContaining({ code: 'ALL_TIES', message: expect.stringMatching(/every one of the \d+ training pairs is a tie/) }),
      );
    }
  });

  it('stops early and restores the weights of the best validation epoch', () => {
    // Validation outcomes are the training outcomes flipped: the more it learns, the worse validation gets.
    const train = selectPairs(linearData.pairs, linearData.split, PAIR_SPLIT.train);
    const validation = { ...train, outcome: train.outcome.map((y) => 1 - y) };
    const result = trainRewardModel(
      { features: linearData.features, nItems: linearData.nItems, dim: linearData.dim, train, validation },
      { kind: 'mlp', hiddenLayers: [8], seed: 1, maxEpochs: 10, patience: 2 },
    );
    expect(result.stoppedEarly).toBe(true);
    expect(result.history).toHaveLength(3);
    expect(result.bestEpoch).toBe(1);
    const losses = result.history.map((h) => h.validationLoss as number);
    expect(losses[1]).toBeGreaterThan(losses[0]);
    expect(meanLoss(result.model, linearData, validation)).toBeCloseTo(losses[0], 5);
  });

  it('learns a Davidson tie parameter when ties are modelled', () => {
    const data = syntheticPreferences({
      nItems: 1000,
      nPairs: 20_000,
      dim: 8,
      truth: 'linear',
      seed: 5,
      tieShare: 0.3,
    });
    const plain = trainRewardModel(splitData(data), { kind: 'linear', seed: 1, maxEpochs: 5 });
    const withTies = trainRewardModel(splitData(data), {
      kind: 'linear',
      seed: 1,
      maxEpochs: 5,
      ties: { model: 'davidson' },
    });
    expect(plain.model.ties).toBeUndefined();
    expect(withTies.model.ties?.model).toBe('davidson');
    expect(withTies.counts.trainTies).toBeGreaterThan(0);
    // Ties are 30% of outcomes regardless of d, so P(tie | d = 0) = ν / (2 + ν) should land well above 0.3.
    const nu = withTies.model.ties?.nu as number;
    expect(nu / (2 + nu)).toBeGreaterThan(0.3);
    expect(withTies.history[0].trainLoss).not.toBeCloseTo(plain.history[0].trainLoss, 2);
    const fixed = trainRewardModel(splitData(data), {
      kind: 'linear',
      seed: 1,
      maxEpochs: 2,
      ties: { model: 'davidson', nu: 0.5 },
    });
    expect(fixed.model.ties?.nu).toBe(0.5);
  });

  it('splits mini-batches across worker threads under jest too: reproducible per thread count, close to one thread', () => {
    // The worker threads run bradley-terry.worker from its TypeScript source here (@flywheel/threads), as production
    // runs the compiled one: the multi-threaded path is the one tested, not a one-thread fallback.
    const small = syntheticPreferences({ nItems: 600, nPairs: 6000, dim: 6, truth: 'nonlinear', seed: 3 });
    const options: TrainOptions = { kind: 'mlp', hiddenLayers: [8], maxEpochs: 3, seed: 5, batchSize: 256 };
    const three = trainRewardModel(splitData(small), { ...options, threads: 3 });
    expect(three.threads).toBe(3);
    expect(three.options.threads).toBe(3);
    const again = trainRewardModel(splitData(small), { ...options, threads: 3 });
    expect(bytesOf(again.model).equals(bytesOf(three.model))).toBe(true);
    // One thread sums the shards' gradients in another order: float rounding, not a different model.
    const one = trainRewardModel(splitData(small), { ...options, threads: 1 });
    expect(one.threads).toBe(1);
    expect(bytesOf(one.model).equals(bytesOf(three.model))).toBe(false);
    const a = predict(one.model, small.features, small.nItems);
    const b = predict(three.model, small.features, small.nItems);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThan(1e-3);
    expect(three.history.map((h) => h.validationLoss)).toEqual(one.history.map((h) => expect.closeTo(h.validationLoss as number, 5)));
  });

  it('rejects invalid data and options with coded errors', () => {
    const bad = { ...linearData.pairs, a: linearData.pairs.a.map((i, p) => (p === 3 ? linearData.nItems : i)) };
    expect(() => trainRewardModel({ ...linearData, pairs: bad, split: linearData.split }, { kind: 'linear' })).toThrow(
      expect.objectContaining({ code: 'INVALID_TRAINING_DATA' }),
    );
    expect(() => trainRewardModel(splitData(linearData), { kind: 'mlp', hiddenLayers: [0] })).toThrow(RewardModelError);
    expect(() => trainRewardModel(splitData(linearData), { kind: 'linear', hiddenLayers: [4] })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});

describe('trainRewardModel with solver exact', () => {
  const small = syntheticPreferences({ nItems: 600, nPairs: 3000, dim: 6, truth: 'linear', seed: 7 });
  const train = selectPairs(small.pairs, small.split, PAIR_SPLIT.train);
  const validation = selectPairs(small.pairs, small.split, PAIR_SPLIT.validation);
  const data = { features: small.features, nItems: small.nItems, dim: 6 };

  it('reaches the optimum of logistic-regression Bradley–Terry at the same L2 strength', () => {
    // logisticRegressionBt minimises C·Σ loss + ½‖β‖²: the same minimiser as mean loss + (λ/2)‖β‖² at λ = 1/(C·n).
    const result = trainRewardModel({ ...data, train }, { kind: 'linear', solver: 'exact', l2: 1 / train.a.length });
    const reference = logisticRegressionBt(small.features, small.nItems, 6, train).model;
    expect(result.stoppedBy).toBe('converged');
    expect(result.exact).toMatchObject({ l2: 1 / train.a.length, grid: [], refitOnValidation: false });
    const ours = result.model.layers[0].weights;
    const theirs = reference.layers[0].weights;
    for (let k = 0; k < 6; k++) expect(ours[k]).toBeCloseTo(theirs[k], 4);
    // The Adam trainer stops by validation loss somewhere short of it.
    const adam = trainRewardModel({ ...data, train, validation }, { kind: 'linear', seed: 1 });
    expect(adam.stoppedBy).toBe('patience');
  });

  it('chooses l2 by validation loss, then refits on train + validation, reproducibly', () => {
    // Few pairs, many irrelevant features: the validation pairs pick a stronger penalty than the weakest.
    const noisy = syntheticPreferences({ nItems: 200, nPairs: 400, dim: 24, truth: 'linear', seed: 3 });
    const split = { ...noisy, pairs: noisy.pairs, split: noisy.split };
    const result = trainRewardModel(split, { kind: 'linear', solver: 'exact' });
    expect(result.exact!.grid.map((g) => g.l2)).toEqual([...EXACT_L2_GRID]);
    const best = result.exact!.grid.reduce((a, b) => (b.validationLoss < a.validationLoss ? b : a));
    expect(result.exact!.l2).toBe(best.l2);
    expect(result.exact!.l2).toBeGreaterThan(EXACT_L2_GRID[0]);
    expect(result.exact!.refitOnValidation).toBe(true);
    expect(result.options.l2).toBe(best.l2);
    const again = trainRewardModel(split, { kind: 'linear', solver: 'exact' });
    expect(bytesOf(again.model).equals(bytesOf(result.model))).toBe(true);
  });

  it('refuses what it cannot fit exactly', () => {
    const split = { ...small, pairs: small.pairs, split: small.split };
    expect(() => trainRewardModel(split, { kind: 'mlp', solver: 'exact' })).toThrow(/linear model without a tie model/);
    expect(() => trainRewardModel(split, { kind: 'linear', solver: 'exact', ties: { model: 'davidson' } })).toThrow(RewardModelError);
    expect(() => trainRewardModel(split, { kind: 'linear', solver: 'newton' as 'exact' })).toThrow(/solver must be adam or exact/);
  });
});
