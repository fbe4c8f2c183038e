import { ROLLUP_COUNTERS, RollupCounter } from './rollup-contribution';

/**
 * Cluster moments: per (model, model version) and cluster unit (video or user), the sums over clusters g of
 * S_g,a · S_g,b for the counter pairs the cluster-robust variance of a ratio metric Σa / Σb needs:
 * Σ_g (A_g − r·B_g)² = Σ A_g² − 2r Σ A_g·B_g + r² Σ B_g². The ingest-worker keeps them incrementally: when a
 * cluster's sums go from S − δ to S, Σ S_a·S_b changes by δ_a·S_b + S_a·δ_b − δ_a·δ_b (computed from the new sums
 * and the delta, so no old value is read back).
 */
export interface RatioPair<C extends string = RollupCounter> {
  /** The numerator counter (successes, or the sum of a score). */
  num: C;
  /** The denominator counter (viewers, plays, watch_n). */
  den: C;
  /**
   * Row-level Σa² of the numerator, from the rollup counters: the counter itself for a 0/1 flag, the sum of squares
   * for a score. Σa·b is the numerator (b is 0/1 and a is 0 where b is), Σb² the denominator.
   */
  numSquares: C;
}

export interface MomentColumn {
  name: string;
  a: RollupCounter;
  b: RollupCounter;
}

/** Every (numerator, denominator) pair a dashboard metric is a ratio of (see apps/api metric-definitions). */
const flag = (num: RollupCounter, den: RollupCounter): RatioPair => ({ num, den, numSquares: num });
export const RATIO_PAIRS: readonly RatioPair[] = [
  flag('likes', 'viewers'), flag('favorites', 'viewers'), flag('shares', 'viewers'), flag('downloads', 'viewers'),
  flag('exports', 'viewers'), flag('completions', 'plays'), flag('regenerates', 'viewers'), flag('discards', 'viewers'),
  flag('dislikes', 'viewers'), { num: 'watch_sum', den: 'watch_n', numSquares: 'watch_sumsq' },
  { num: 'sat_sum', den: 'viewers', numSquares: 'sat_sumsq' },
];

export function ratioPair(num: RollupCounter, den: RollupCounter): RatioPair {
  const pair = RATIO_PAIRS.find((p) => p.num === num && p.den === den);
  if (!pair) throw new RangeError(`no cluster moments are kept for ${num} / ${den}`);
  return pair;
}

export const momentName = (a: string, b: string) => `m_${a}__${b}`;

/** The moment columns of `cluster_moments`, in table order: A², A·B per pair, then B² per denominator. */
export const MOMENT_COLUMNS: readonly MomentColumn[] = (() => {
  const out: MomentColumn[] = [];
  const seen = new Set<string>();
  const push = (a: RollupCounter, b: RollupCounter) => {
    const name = momentName(a, b);
    if (!seen.has(name)) {
      seen.add(name);
      out.push({ name, a, b });
    }
  };
  for (const p of RATIO_PAIRS) push(p.num, p.num);
  for (const p of RATIO_PAIRS) push(p.num, p.den);
  for (const p of RATIO_PAIRS) push(p.den, p.den);
  return out;
})();

export const counterIndex = (c: RollupCounter): number => ROLLUP_COUNTERS.indexOf(c);

/**
 * The counters a per-user aggregate keeps (user_aggregates): those the moments pair up, and `viewers` (the cluster
 * count). The per-user sums serve only the user side of the cluster moments, so the other counters are not kept.
 */
export const MOMENT_COUNTERS: readonly RollupCounter[] = ROLLUP_COUNTERS.filter(
  (c) => c === 'viewers' || MOMENT_COLUMNS.some((m) => m.a === c || m.b === c),
);

/** The counters a per-video aggregate keeps (video_aggregates): MOMENT_COUNTERS and the Σ² /v1/metrics/videos reads. */
export const VIDEO_AGGREGATE_COUNTERS: readonly RollupCounter[] = ROLLUP_COUNTERS.filter(
  (c) => MOMENT_COUNTERS.includes(c) || c === 'sat_sumsq',
);
