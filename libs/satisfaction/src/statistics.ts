/**
 * The statistics behind dashboard metrics and model evaluation: intervals for rates and means, version-vs-version
 * comparisons, multiple-testing control and ranking AUC. Intervals use the normal reference distribution, which is
 * what dashboards with tens of samples per cell or more need; below ~30 per arm a t interval would be wider.
 */

/** Two-sided 95% normal quantile. */
export const Z_95 = 1.959964;

export interface Interval {
  lower: number;
  upper: number;
}

export interface Estimate extends Interval {
  estimate: number;
  standardError: number;
}

export interface Comparison extends Interval {
  /** b − a. */
  difference: number;
  z: number;
  /** Two-sided. */
  pValue: number;
}

export interface Lift extends Interval {
  /** b / a − 1. */
  lift: number;
}

export interface ProportionSample {
  successes: number;
  n: number;
}

/** The sums an hourly rollup keeps for a score. */
export interface MomentSums {
  n: number;
  sum: number;
  sumSq: number;
}

/**
 * Standard normal CDF (Hart 1968 algorithm 5666 in the double-precision form of G. West, "Better approximations to
 * cumulative normal functions", Wilmott 2005): absolute error below 1e-15. It computes the tail directly, so small
 * p-values keep a relative error below 1e-8 instead of drowning in 1 − Φ.
 */
export function normalCdf(x: number): number {
  const t = Math.abs(x);
  let tail: number;
  if (t > 37) {
    tail = 0;
  } else if (t < 7.07106781186547) {
    const numerator = (((((0.0352624965998911 * t + 0.700383064443688) * t + 6.37396220353165) * t
      + 33.912866078383) * t + 112.079291497871) * t + 221.213596169931) * t + 220.206867912376;
    const denominator = ((((((0.0883883476483184 * t + 1.75566716318264) * t + 16.064177579207) * t
      + 86.7807322029461) * t + 296.564248779674) * t + 637.333633378831) * t + 793.826512519948) * t
      + 440.413735824752;
    tail = (Math.exp(-t * t / 2) * numerator) / denominator;
  } else {
    const fraction = t + 1 / (t + 2 / (t + 3 / (t + 4 / (t + 0.65))));
    tail = Math.exp(-t * t / 2) / fraction / 2.506628274631;
  }
  return x > 0 ? 1 - tail : tail;
}

/** Two-sided p-value of a standard normal statistic. */
export function twoSidedPValue(z: number): number {
  return Math.min(1, 2 * normalCdf(-Math.abs(z)));
}

/** Wilson score interval: stays inside [0, 1] and keeps its coverage for small n and rates near 0 or 1. */
export function wilsonInterval(successes: number, n: number, z = Z_95): Interval {
  if (n <= 0) return { lower: 0, upper: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const halfWidth = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lower: Math.max(0, centre - halfWidth), upper: Math.min(1, centre + halfWidth) };
}

/** A rate with its Wilson interval and its binomial standard error. */
export function proportionEstimate({ successes, n }: ProportionSample, z = Z_95): Estimate {
  const estimate = n > 0 ? successes / n : NaN;
  return { estimate, standardError: Math.sqrt((estimate * (1 - estimate)) / n), ...wilsonInterval(successes, n, z) };
}

/**
 * A mean with a normal-approximation interval, from the rollup sums. The variance is the unbiased sample variance
 * (clamped at 0 against rounding in sumSq − sum²/n); with fewer than 2 samples the interval is unbounded.
 */
export function meanEstimate({ n, sum, sumSq }: MomentSums, z = Z_95): Estimate {
  if (n <= 0) return { estimate: NaN, standardError: NaN, lower: -Infinity, upper: Infinity };
  const estimate = sum / n;
  if (n < 2) return { estimate, standardError: Infinity, lower: -Infinity, upper: Infinity };
  const variance = Math.max(0, (sumSq - (sum * sum) / n) / (n - 1));
  const standardError = Math.sqrt(variance / n);
  return { estimate, standardError, lower: estimate - z * standardError, upper: estimate + z * standardError };
}

/**
 * Difference of two rates, b − a. The interval is Newcombe's hybrid score interval (method 10 of Newcombe 1998, built
 * from the two Wilson intervals); the p-value is the pooled two-proportion z test. Near 0 or 1 the two can disagree
 * slightly about significance; the interval is the better-behaved of the two.
 */
export function proportionDifference(a: ProportionSample, b: ProportionSample, z = Z_95): Comparison {
  const pa = a.successes / a.n;
  const pb = b.successes / b.n;
  const wa = wilsonInterval(a.successes, a.n, z);
  const wb = wilsonInterval(b.successes, b.n, z);
  const difference = pb - pa;
  const pooled = (a.successes + b.successes) / (a.n + b.n);
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n));
  const statistic = pooledSe > 0 ? difference / pooledSe : 0;
  return {
    difference,
    lower: difference - Math.hypot(pb - wb.lower, wa.upper - pa),
    upper: difference + Math.hypot(wb.upper - pb, pa - wa.lower),
    z: statistic,
    pValue: twoSidedPValue(statistic),
  };
}

/** Difference of two means, b − a, with Welch's unequal-variance standard error and a normal reference. */
export function meanDifference(a: MomentSums, b: MomentSums, z = Z_95): Comparison {
  const ea = meanEstimate(a, z);
  const eb = meanEstimate(b, z);
  const difference = eb.estimate - ea.estimate;
  const standardError = Math.hypot(ea.standardError, eb.standardError);
  const statistic = standardError > 0 ? difference / standardError : 0;
  return {
    difference,
    lower: difference - z * standardError,
    upper: difference + z * standardError,
    z: statistic,
    pValue: twoSidedPValue(statistic),
  };
}

/**
 * Relative lift b / a − 1 with an interval from the delta method on log(b / a). Defined for positive estimates only
 * (rates, means of positive quantities): returns null otherwise, e.g. for a satisfaction mean that crosses 0.
 */
export function relativeLift(
  a: Pick<Estimate, 'estimate' | 'standardError'>,
  b: Pick<Estimate, 'estimate' | 'standardError'>,
  z = Z_95,
): Lift | null {
  if (!(a.estimate > 0 && b.estimate > 0)) return null;
  const logRatio = Math.log(b.estimate / a.estimate);
  const logSe = Math.hypot(a.standardError / a.estimate, b.standardError / b.estimate);
  return {
    lift: Math.exp(logRatio) - 1,
    lower: Math.exp(logRatio - z * logSe) - 1,
    upper: Math.exp(logRatio + z * logSe) - 1,
  };
}

/**
 * Benjamini–Hochberg step-up procedure: which of the p-values are discoveries at false-discovery rate `q`.
 * Returns flags in the order of the input.
 */
export function benjaminiHochberg(pValues: readonly number[], q = 0.05): boolean[] {
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((i, j) => pValues[i] - pValues[j]);
  let cutoff = -1; // largest rank k (0-based) with p_(k) ≤ (k + 1) q / m
  for (let k = m - 1; k >= 0; k--) {
    if (pValues[order[k]] <= ((k + 1) * q) / m) {
      cutoff = k;
      break;
    }
  }
  const significant = new Array<boolean>(m).fill(false);
  for (let k = 0; k <= cutoff; k++) significant[order[k]] = true;
  return significant;
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative, ties counting
 * half (the Mann–Whitney U statistic over n₊·n₋). O(n log n). NaN when either class is empty.
 */
export function aucFromScores(scores: Float64Array | readonly number[], labels: readonly (0 | 1)[]): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`${n} scores but ${labels.length} labels`);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`score ${i} is NaN`);
    order[i] = i;
  }
  order.sort((i, j) => scores[i] - scores[j]);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < n;) {
    let end = start;
    let positivesInTie = 0;
    while (end < n && scores[order[end]] === scores[order[start]]) positivesInTie += labels[order[end++]];
    // ranks start+1 … end share their mean
    positiveRankSum += positivesInTie * ((start + 1 + end) / 2);
    positives += positivesInTie;
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
