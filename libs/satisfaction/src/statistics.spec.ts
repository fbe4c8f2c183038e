import {
  Z_95, aucFromScores, benjaminiHochberg, meanDifference, meanEstimate, normalCdf, proportionDifference,
  proportionEstimate, relativeLift, wilsonInterval,
} from './statistics';

describe('normalCdf', () => {
  // Reference values: 0.5·erfc(−x/√2) in double precision (Python math.erfc).
  it.each([
    [0, 0.5],
    [0.3, 0.6179114221889526],
    [1, 0.8413447460685429],
    [-1, 0.15865525393145707],
    [1.959964, 0.9750000009035575],
    [-2.5, 0.006209665325776139],
    [3, 0.9986501019683699],
  ])('Φ(%p) = %p', (x, expected) => {
    expect(Math.abs(normalCdf(x) - expected)).toBeLessThan(1e-14);
  });

  it.each([
    [-5, 2.866515718791946e-7],
    [-8, 6.220960574271819e-16],
    [-10, 7.619853024160593e-24],
  ])('keeps relative precision far in the tail: Φ(%p) = %p', (x, expected) => {
    expect(Math.abs(normalCdf(x) / expected - 1)).toBeLessThan(1e-7);
  });

  it('is symmetric', () => {
    for (const x of [0.1, 0.7, 1.3, 2.2, 4.4, 6.9, 7.5]) expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 15);
  });
});

describe('wilsonInterval', () => {
  it('matches the textbook 81/263 example', () => {
    const { lower, upper } = wilsonInterval(81, 263);
    expect(lower).toBeCloseTo(0.2553, 4);
    expect(upper).toBeCloseTo(0.3662, 4);
  });

  it('stays inside [0, 1] at 0 successes, with upper bound z²/(n + z²)', () => {
    const { lower, upper } = wilsonInterval(0, 10);
    expect(lower).toBe(0);
    expect(upper).toBeCloseTo((Z_95 * Z_95) / (10 + Z_95 * Z_95), 12);
  });

  it('is uninformative without data', () => {
    expect(wilsonInterval(0, 0)).toEqual({ lower: 0, upper: 1 });
  });

  it('narrows with a smaller z', () => {
    const wide = wilsonInterval(30, 100);
    const narrow = wilsonInterval(30, 100, 1.644854);
    expect(narrow.lower).toBeGreaterThan(wide.lower);
    expect(narrow.upper).toBeLessThan(wide.upper);
  });
});

describe('proportionEstimate', () => {
  it('reports the rate, its binomial standard error and the Wilson bounds', () => {
    const estimate = proportionEstimate({ successes: 81, n: 263 });
    expect(estimate.estimate).toBeCloseTo(81 / 263, 12);
    expect(estimate.standardError).toBeCloseTo(Math.sqrt((81 / 263) * (182 / 263) / 263), 12);
    expect(estimate.lower).toBeCloseTo(0.2553, 4);
  });
});

describe('meanEstimate', () => {
  it('computes a normal interval from n, sum and sumSq', () => {
    // values 1..5: mean 3, sample variance 2.5, standard error √0.5
    const estimate = meanEstimate({ n: 5, sum: 15, sumSq: 55 });
    expect(estimate.estimate).toBe(3);
    expect(estimate.standardError).toBeCloseTo(Math.SQRT1_2, 12);
    expect(estimate.lower).toBeCloseTo(1.6140962, 6);
    expect(estimate.upper).toBeCloseTo(4.3859038, 6);
  });

  it('does not return NaN when rounding makes sumSq − sum²/n slightly negative', () => {
    const estimate = meanEstimate({ n: 3, sum: 0.3, sumSq: 0.03 - 1e-18 });
    expect(estimate.standardError).toBe(0);
  });

  it('is unbounded with a single sample', () => {
    expect(meanEstimate({ n: 1, sum: 0.4, sumSq: 0.16 })).toEqual(
      { estimate: 0.4, standardError: Infinity, lower: -Infinity, upper: Infinity },
    );
  });
});

describe('proportionDifference', () => {
  it('gives the pooled z test p-value computed by hand', () => {
    // pooled p = 0.525, se = √(0.525·0.475·0.02) = 0.0706222, z = 0.15 / se = 2.12398
    const result = proportionDifference({ successes: 45, n: 100 }, { successes: 60, n: 100 });
    expect(result.difference).toBeCloseTo(0.15, 12);
    expect(result.z).toBeCloseTo(2.12398, 5);
    expect(result.pValue).toBeCloseTo(0.033672, 6);
  });

  it("matches Newcombe's (1998) published hybrid score interval for 56/70 − 48/80", () => {
    const result = proportionDifference({ successes: 48, n: 80 }, { successes: 56, n: 70 });
    expect(result.difference).toBeCloseTo(0.2, 12);
    expect(result.lower).toBeCloseTo(0.0524, 4);
    expect(result.upper).toBeCloseTo(0.3339, 4);
  });

  it('flips sign and keeps the p-value when the arms swap', () => {
    const forward = proportionDifference({ successes: 45, n: 100 }, { successes: 60, n: 100 });
    const backward = proportionDifference({ successes: 60, n: 100 }, { successes: 45, n: 100 });
    expect(backward.difference).toBeCloseTo(-forward.difference, 12);
    expect(backward.lower).toBeCloseTo(-forward.upper, 12);
    expect(backward.pValue).toBeCloseTo(forward.pValue, 12);
  });

  it('reports no evidence when both arms are all failures', () => {
    expect(proportionDifference({ successes: 0, n: 50 }, { successes: 0, n: 40 }).pValue).toBe(1);
  });
});

describe('meanDifference', () => {
  it("uses Welch's unequal-variance standard error", () => {
    // a = 1..5 (var 2.5), b = 2, 4, …, 12 (var 14): se = √(2.5/5 + 14/6) = 1.6832508
    const result = meanDifference({ n: 5, sum: 15, sumSq: 55 }, { n: 6, sum: 42, sumSq: 364 });
    expect(result.difference).toBeCloseTo(4, 12);
    expect(result.lower).toBeCloseTo(0.7008890, 6);
    expect(result.upper).toBeCloseTo(7.2991110, 6);
    expect(result.pValue).toBeCloseTo(0.0174847, 6);
  });
});

describe('relativeLift', () => {
  it('takes its interval from the delta method on the log ratio', () => {
    const a = proportionEstimate({ successes: 100, n: 1000 });
    const b = proportionEstimate({ successes: 120, n: 1000 });
    const lift = relativeLift(a, b)!;
    expect(lift.lift).toBeCloseTo(0.2, 12);
    expect(lift.lower).toBeCloseTo(-0.0658943, 6);
    expect(lift.upper).toBeCloseTo(0.5415813, 6);
  });

  it('is undefined for a baseline that is not positive', () => {
    expect(relativeLift({ estimate: -0.1, standardError: 0.02 }, { estimate: 0.2, standardError: 0.02 })).toBeNull();
  });
});

describe('benjaminiHochberg', () => {
  it('steps up: a p-value above its own threshold is kept when a larger one passes', () => {
    // thresholds k·0.05/4 = 0.0125, 0.025, 0.0375, 0.05: 0.03 > 0.025 but 0.035 ≤ 0.0375
    expect(benjaminiHochberg([0.2, 0.035, 0.01, 0.03])).toEqual([false, true, true, true]);
  });

  it('flags only the leading p-values of the classic ten-test example', () => {
    const pValues = [0.039, 0.001, 0.041, 0.042, 0.06, 0.074, 0.008, 0.205, 0.212, 0.216];
    expect(benjaminiHochberg(pValues)).toEqual([false, true, false, false, false, false, true, false, false, false]);
  });

  it('flags nothing when no p-value is small enough', () => {
    expect(benjaminiHochberg([0.03, 0.5])).toEqual([false, false]);
    expect(benjaminiHochberg([])).toEqual([]);
  });
});

describe('aucFromScores', () => {
  it('matches the hand computation on four points', () => {
    expect(aucFromScores([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
  });

  it('counts a tied positive–negative pair as half', () => {
    // pairs: (1 vs 1) ½, (1 vs 2) 0, (3 vs 1) 1, (3 vs 2) 1 → 2.5 / 4
    expect(aucFromScores(new Float64Array([1, 1, 2, 3]), [0, 1, 0, 1])).toBeCloseTo(0.625, 12);
    expect(aucFromScores([5, 5, 5, 5], [0, 1, 1, 0])).toBe(0.5);
  });

  it('is 1 for perfect separation and 0 for perfect inversion', () => {
    expect(aucFromScores([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
    expect(aucFromScores([4, 3, 2, 1], [0, 0, 1, 1])).toBe(0);
  });

  it('agrees with the pairwise definition on data full of ties', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const scores = Array.from({ length: 300 }, () => Math.floor(next() * 12));
    const labels = scores.map((s) => (next() < s / 14 ? 1 : 0) as 0 | 1);
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < scores.length; i++) {
      for (let j = 0; j < scores.length; j++) {
        if (labels[i] !== 1 || labels[j] !== 0) continue;
        pairs += 1;
        wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
    }
    expect(aucFromScores(scores, labels)).toBeCloseTo(wins / pairs, 12);
  });

  it('is NaN with one class and rejects mismatched or NaN input', () => {
    expect(aucFromScores([1, 2], [1, 1])).toBeNaN();
    expect(() => aucFromScores([1, 2], [1])).toThrow(RangeError);
    expect(() => aucFromScores([1, NaN], [1, 0])).toThrow(RangeError);
  });
});
