import { evaluatePairs, randomBaseline } from './pair-evaluation';
import { Prng } from './prng';

/** O(n²) reference: positives are winner-minus-loser margins, negatives their mirror. */
function bruteForceAuc(d: Float64Array, y: Float32Array, w: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < d.length; i++) {
    if (y[i] === 0.5) continue;
    const si = y[i] > 0.5 ? d[i] : -d[i];
    for (let j = 0; j < d.length; j++) {
      if (y[j] === 0.5) continue;
      const negative = -(y[j] > 0.5 ? d[j] : -d[j]);
      num += w[i] * w[j] * (si > negative ? 1 : si === negative ? 0.5 : 0);
      den += w[i] * w[j];
    }
  }
  return num / den;
}

describe('evaluatePairs', () => {
  it('scores perfect and reversed rankings, excluding ties from accuracy and AUC', () => {
    const a = Float32Array.from([3, 1, 2, 5]);
    const b = Float32Array.from([1, 2, 0, 5]);
    const outcome = Float32Array.from([1, 0, 1, 0.5]);
    const perfect = evaluatePairs(a, b, outcome);
    expect(perfect).toMatchObject({ pairs: 4, decisivePairs: 3, ties: 1, accuracy: 1, auc: 1 });
    const reversed = evaluatePairs(b, a, outcome);
    expect(reversed.accuracy).toBe(0);
    expect(reversed.auc).toBe(0);
    expect(reversed.logLoss).toBeGreaterThan(perfect.logLoss);
  });

  it('gives ln 2 log loss, 0.5 accuracy and AUC for constant scores', () => {
    const zeros = new Float32Array(10);
    const outcome = Float32Array.from({ length: 10 }, (_, i) => i % 2);
    const metrics = evaluatePairs(zeros, zeros, outcome);
    expect(metrics.logLoss).toBeCloseTo(Math.LN2, 12);
    expect(metrics.accuracy).toBe(0.5);
    expect(metrics.auc).toBe(0.5);
    expect(randomBaseline()).toEqual({ accuracy: 0.5, auc: 0.5, logLoss: Math.LN2, ece: 0 });
  });

  it('computes the weighted AUC of the score difference like the O(n²) definition', () => {
    const rng = new Prng(2);
    const n = 400;
    const a = Float32Array.from({ length: n }, () => Math.round(rng.nextNormal() * 4) / 2);
    const b = Float32Array.from({ length: n }, () => Math.round(rng.nextNormal() * 4) / 2);
    const outcome = Float32Array.from({ length: n }, (_, i) =>
      i % 17 === 0 ? 0.5 : rng.nextFloat() < 1 / (1 + Math.exp(b[i] - a[i])) ? 1 : 0,
    );
    const weight = Float32Array.from({ length: n }, () => 0.5 + rng.nextFloat());
    const d = Float64Array.from(a, (x, i) => x - b[i]);
    expect(evaluatePairs(a, b, outcome, weight).auc).toBeCloseTo(bruteForceAuc(d, outcome, weight), 12);
  });

  it('reports a small calibration error for calibrated scores and a large one for overconfident scores', () => {
    const rng = new Prng(4);
    const n = 50_000;
    const a = Float32Array.from({ length: n }, () => rng.nextNormal());
    const b = new Float32Array(n);
    const outcome = Float32Array.from(a, (d) => (rng.nextFloat() < 1 / (1 + Math.exp(-d)) ? 1 : 0));
    expect(evaluatePairs(a, b, outcome).ece).toBeLessThan(0.02);
    expect(evaluatePairs(a.map((d) => d * 5), b, outcome).ece).toBeGreaterThan(0.1);
  });

  it('rejects arrays of different lengths', () => {
    expect(() => evaluatePairs(new Float32Array(2), new Float32Array(3), new Float32Array(2))).toThrow(
      expect.objectContaining({ code: 'INVALID_EVALUATION_DATA' }),
    );
  });
});
