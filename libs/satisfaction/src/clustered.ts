import tQuantile = require('@stdlib/stats-base-dists-t-quantile');
import tCdf = require('@stdlib/stats-base-dists-t-cdf');
import { RatioPair, momentName } from './cluster-moments';
import { Interval, Z_95, normalCdf, wilsonInterval } from './statistics';

/**
 * Cluster-robust inference for the dashboard's ratio metrics (Σa / Σb over (video, user) rows), at the right unit:
 * rows of one video share its quality, rows of one user share their taste, so rows are not independent samples.
 *
 * Variance of r = A / B by linearisation, two-way cluster-robust (Cameron, Gelbach & Miller 2011):
 *   V = V_video + V_user − V_row,  V_unit = c · Σ_g (A_g − r·B_g)² / B², c = G / (G − 1) (none for rows),
 * where Σ_g (A_g − r·B_g)² = Σ A_g² − 2r Σ A_g·B_g + r² Σ B_g² comes from the cluster moments the ingest-worker keeps
 * per (model, model version). When the two-way sum is not above both one-way ones (it can even be negative), the
 * larger one-way variance is used; never less than the row-level (naive) variance.
 *
 * Windows: the moments are all-time sums per cluster, which cannot be cut to a time window. The design effect
 * deff = V / V_row of the group's cells (model, version, category, segment) over all their data is applied to the
 * naive variance of a window or bucket: exact when the window holds all of the cells' data, conservative when it
 * holds less under stable clustering (a sub-window's clusters are smaller, and deff = 1 + (m − 1)·ICC grows with the
 * cluster size m). Videos never span cells, so their moments add up exactly over any group of cells; users span
 * categories and versions: their moments are kept per version, enter a category group through the version's
 * user-to-row variance ratio, and several versions pooled in one group are bounded by Minkowski's inequality,
 * (Σ_v √U_v)², which is conservative.
 *
 * Reference distribution: t with min(G_video, G_user) − 1 degrees of freedom (the normal from 1000 up), so few
 * clusters widen the interval instead of trusting a variance estimated from a handful of them.
 */

/** The all-time sums of one (model, model version): rollup totals and the video and user cluster moments. */
export interface VersionClusterSums {
  totals: Readonly<Record<string, number>>;
  /** `clusters` and the MOMENT_COLUMNS by name; absent when no cluster has been recorded. */
  videoMoments: Readonly<Record<string, number>> | null;
  userMoments: Readonly<Record<string, number>> | null;
}

/** The all-time sums of one (model, model version, category, segment): rollup totals and the video moments. */
export interface CellClusterSums {
  totals: Readonly<Record<string, number>>;
  videoMoments: Readonly<Record<string, number>> | null;
}

export interface ClusterAdjustment {
  /** V_clustered / V_naive over all the data of the versions: ≥ 1; 1 when it cannot be estimated. */
  designEffect: number;
  /** Degrees of freedom of the t reference; Infinity means normal. */
  df: number;
  videos: number;
  users: number;
  /** False when there were too few clusters (< 2 of either kind) to estimate: designEffect is then a floor. */
  estimated: boolean;
}

/** Below this many clusters of either kind the design effect cannot be estimated at all. */
export const MIN_CLUSTERS = 2;
/** From this many degrees of freedom the normal reference is used. */
const NORMAL_DF = 1000;

/** Σ (a − r·b)² from sums of squares and cross-products. */
function residualSquares(aa: number, ab: number, bb: number, r: number): number {
  return Math.max(0, aa - 2 * r * ab + r * r * bb);
}

/** The three moment column names of each pair, built once (the dashboard asks for them per metric and group). */
const PAIR_MOMENTS = new WeakMap<RatioPair<string>, readonly [string, string, string]>();
function momentNamesOf(pair: RatioPair<string>): readonly [string, string, string] {
  let names = PAIR_MOMENTS.get(pair);
  if (!names) PAIR_MOMENTS.set(pair, (names = [momentName(pair.num, pair.num), momentName(pair.num, pair.den), momentName(pair.den, pair.den)]));
  return names;
}

function momentResidual(m: Readonly<Record<string, number>> | null, pair: RatioPair<string>, r: number): number {
  if (!m) return 0;
  const [aa, ab, bb] = momentNamesOf(pair);
  return residualSquares(m[aa] ?? 0, m[ab] ?? 0, m[bb] ?? 0, r);
}

/**
 * The design effect of metric `pair` for a group whose rows are those of `cells` (default: all of `versions`), with
 * the degrees of freedom of its t reference. The video term is the cells' own (videos never span cells); the user
 * term is the versions' (users span categories and segments), as a ratio to the versions' row-level variance applied
 * to the cells' — so that a whole version gets exactly V_video + V_user − V_row, and a category or segment of it its
 * own video clustering plus its version's user clustering.
 */
export function clusterAdjustment(pair: RatioPair<string>, versions: readonly VersionClusterSums[], cells: readonly CellClusterSums[] = versions): ClusterAdjustment {
  let A = 0;
  let B = 0;
  let videos = 0;
  for (const c of cells) {
    A += c.totals[pair.num];
    B += c.totals[pair.den];
    videos += c.videoMoments?.clusters ?? 0;
  }
  let users = 0;
  let versionA = 0;
  let versionB = 0;
  for (const v of versions) {
    users = Math.max(users, v.userMoments?.clusters ?? 0);
    versionA += v.totals[pair.num];
    versionB += v.totals[pair.den];
  }
  const none: ClusterAdjustment = { designEffect: 1, df: Math.max(1, Math.min(videos, users) - 1), videos, users, estimated: false };
  if (!(B > 0) || !(versionB > 0) || videos < MIN_CLUSTERS || users < MIN_CLUSTERS) return none;
  const r = A / B;
  let row = 0;
  let video = 0;
  for (const c of cells) {
    row += residualSquares(c.totals[pair.numSquares], c.totals[pair.num], c.totals[pair.den], r);
    video += momentResidual(c.videoMoments, pair, r);
  }
  if (!(row > 0)) return { ...none, estimated: true }; // no variation at all: nothing to inflate
  const rv = versionA / versionB;
  let versionRow = 0;
  let userRoot = 0;
  for (const v of versions) {
    versionRow += residualSquares(v.totals[pair.numSquares], v.totals[pair.num], v.totals[pair.den], rv);
    userRoot += Math.sqrt(momentResidual(v.userMoments, pair, rv));
  }
  const userRatio = versionRow > 0 ? ((users / (users - 1)) * userRoot * userRoot) / versionRow : 1;
  const vVideo = (videos / (videos - 1)) * video;
  const vUser = userRatio * row;
  const clustered = Math.max(vVideo + vUser - row, vVideo, vUser, row);
  return { designEffect: clustered / row, df: dfOf(Math.min(videos, users) - 1), videos, users, estimated: true };
}

function dfOf(df: number): number {
  return df >= NORMAL_DF ? Infinity : Math.max(1, df);
}

/** Two-sided critical value for confidence `level` with `df` degrees of freedom (normal when df is Infinity). */
export function criticalValue(df: number, level = 0.95): number {
  const p = 1 - (1 - level) / 2;
  if (!Number.isFinite(df)) return level === 0.95 ? Z_95 : tQuantile(p, 1e12);
  return tQuantile(p, df);
}

/** Two-sided p-value of statistic `t` with `df` degrees of freedom. */
export function twoSidedT(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  if (!Number.isFinite(df)) return Math.min(1, 2 * normalCdf(-Math.abs(t)));
  return Math.min(1, 2 * tCdf(-Math.abs(t), df));
}

export interface ClusteredEstimate extends Interval {
  estimate: number;
  /** Cluster-robust standard error. */
  standardError: number;
  designEffect: number;
  df: number;
}

/**
 * A rate with a cluster-robust interval: Wilson's interval on the effective sample size n / deff (so it stays in
 * [0, 1] and keeps Wilson's small-sample behaviour) with the t critical value.
 */
export function clusteredRate(successes: number, n: number, adjustment: Pick<ClusterAdjustment, 'designEffect' | 'df'>): ClusteredEstimate {
  const { designEffect, df } = adjustment;
  const p = successes / n;
  const nEffective = n / designEffect;
  const interval = wilsonInterval(p * nEffective, nEffective, criticalValue(df));
  return { estimate: p, standardError: Math.sqrt((p * (1 - p) * designEffect) / n), designEffect, df, ...interval };
}

/** A mean (Σa / Σb with 0/1 b) with a cluster-robust normal/t interval from the row sums and the design effect. */
export function clusteredMean(n: number, sum: number, sumSq: number, adjustment: Pick<ClusterAdjustment, 'designEffect' | 'df'>): ClusteredEstimate {
  const { designEffect, df } = adjustment;
  const estimate = sum / n;
  if (n < 2) return { estimate, standardError: Infinity, designEffect, df, lower: -Infinity, upper: Infinity };
  // The unbiased row variance (as before), inflated by the design effect.
  const variance = Math.max(0, (sumSq - (sum * sum) / n) / (n - 1));
  const standardError = Math.sqrt((variance * designEffect) / n);
  const c = criticalValue(df);
  return { estimate, standardError, designEffect, df, lower: estimate - c * standardError, upper: estimate + c * standardError };
}

export interface DifferenceTest extends Interval {
  pValue: number;
}

/** Classical (fixed-horizon) test of a difference with standard error `se` and `df` degrees of freedom. */
export function fixedHorizonTest(difference: number, se: number, df: number, level = 0.95): DifferenceTest {
  if (!(se > 0)) return { lower: difference, upper: difference, pValue: difference === 0 ? 1 : 0 };
  const c = criticalValue(df, level);
  return { lower: difference - c * se, upper: difference + c * se, pValue: twoSidedT(difference / se, df) };
}

/**
 * Always-valid inference: the Gaussian-mixture sequential probability ratio test and its confidence sequence
 * (Robbins 1970; Howard et al. 2021; the form GrowthBook ships). With sampling variance V = se² of the estimate at
 * sample size n and a normal mixture over the effect whose variance is σ²ρ² (σ² = n·V, the per-row variance),
 *   Λ_n = (nρ² + 1)^(−1/2) · exp(z² · nρ² / (2(nρ² + 1))),  z = difference / se,
 * is a (mixture) martingale under no difference, so P(Λ_n ≥ 1/α at any look) ≤ α (Ville): the p-value
 * min(1, 1/Λ_n) and the interval {θ : Λ_n(θ) < 1/α} stay valid however often one looks.
 * Tuning: ρ² = (−2 ln α + ln(−2 ln α + 1)) / N*, which makes the interval tightest at n = N* (`tuning`, in rows;
 * GrowthBook's default 5,000). A larger N* gives up width early for width late. With few clusters, se is first
 * scaled by t_df / z (the same widening the fixed-horizon test gets).
 */
export function alwaysValidTest(difference: number, se: number, df: number, n: number, tuning: number, alpha = 0.05): DifferenceTest {
  if (!(se > 0) || !(n > 0)) return { lower: difference, upper: difference, pValue: difference === 0 ? 1 : 0 };
  const widened = Number.isFinite(df) ? se * (criticalValue(df, 1 - alpha) / criticalValue(Infinity, 1 - alpha)) : se;
  const rho2 = mixtureRho2(alpha, tuning);
  const k = n * rho2;
  const halfWidth = widened * Math.sqrt(((2 * (k + 1)) / k) * Math.log(Math.sqrt(k + 1) / alpha));
  const z = difference / widened;
  const pValue = Math.min(1, Math.sqrt(k + 1) * Math.exp((-z * z * k) / (2 * (k + 1))));
  return { lower: difference - halfWidth, upper: difference + halfWidth, pValue };
}

export function mixtureRho2(alpha: number, tuning: number): number {
  const l = -2 * Math.log(alpha);
  return (l + Math.log(l + 1)) / tuning;
}

export interface SrmTest {
  chiSquare: number;
  pValue: number;
  /** Flagged: p below `threshold`. */
  mismatch: boolean;
}

/** Sample-ratio mismatch: Pearson's chi-square of observed counts against expected shares (k − 1 df; here k = 2). */
export function sampleRatioMismatch(observed: readonly number[], expectedShares: readonly number[], threshold = 0.001): SrmTest {
  const total = observed.reduce((a, b) => a + b, 0);
  const shareTotal = expectedShares.reduce((a, b) => a + b, 0);
  if (observed.length !== 2 || expectedShares.length !== 2) throw new RangeError('the SRM test compares two arms');
  if (!(total > 0)) return { chiSquare: 0, pValue: 1, mismatch: false };
  let chiSquare = 0;
  for (let i = 0; i < observed.length; i++) {
    const expected = (total * expectedShares[i]) / shareTotal;
    chiSquare += ((observed[i] - expected) ** 2) / expected;
  }
  // One degree of freedom: χ² is the square of a standard normal.
  const pValue = Math.min(1, 2 * normalCdf(-Math.sqrt(chiSquare)));
  return { chiSquare, pValue, mismatch: pValue < threshold };
}
