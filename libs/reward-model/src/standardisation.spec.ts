import { predict } from './predict';
import { randomFeatures, randomRewardModel } from './random-model.testing';
import { computeStandardisation, foldStandardisation, standardiseFeatures } from './standardisation';

describe('standardisation', () => {
  it('measures mean and std over the flagged items only, and leaves constant features unscaled', () => {
    const features = Float32Array.from([1, 5, 3, 5, 100, 5]);
    const stats = computeStandardisation(features, 3, 2, Uint8Array.from([1, 1, 0]));
    expect(Array.from(stats.mean)).toEqual([2, 5]);
    expect(stats.std[0]).toBeCloseTo(1, 6);
    expect(stats.std[1]).toBe(1);
  });

  it.each([
    ['linear', [6, 1]],
    ['mlp', [6, 8, 1]],
    ['two hidden layers', [6, 8, 5, 1]],
  ])('folds into the first layer of a %s model: same outputs as standardise-then-predict', (_, dims) => {
    const model = randomRewardModel(dims, 11);
    const features = randomFeatures(500, 6, 12);
    const stats = computeStandardisation(features, 500, 6);
    const expected = predict(model, standardiseFeatures(features, 500, stats), 500);
    const actual = predict(foldStandardisation(model, stats), features, 500);
    let worst = 0;
    for (let i = 0; i < 500; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
    }
    expect(worst).toBeLessThan(1e-5);
  });
});
