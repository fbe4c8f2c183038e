import { ROLLUP_COUNTERS, RollupCounter } from './rollup-contribution';

/**
 * Cluster moments: per (model, model version) and cluster unit (video or user), the sums over clusters g of
 * S_g,a · S_g,b for the counter pairs the cluster-robust variance of a ratio metric Σa / Σb needs:
 * Σ_g (A_g − r·B_g)² = Σ A_g² − 2r Σ A_g·B_g + r² Σ B_g². The ingest-worker keeps them incrementally: when a
 * cluster's sums go from S − δ to S, Σ S_a·S_b changes by δ_a·S_b + S_a·δ_b − δ_a·δ_b (computed from the new sums
 * and the delta, so no old value is read back).
 */
export interface RatioPair {
  /** The numerator counter (successes, or the sum of a score). */
  num: RollupCounter;
  /** The denominator counter (viewers, plays, watch_n). */
  den: RollupCounter;
}

export interface MomentColumn {
  name: string;
  a: RollupCounter;
  b: RollupCounter;
}

/** Every (numerator, denominator) pair a dashboard metric is a ratio of (see apps/api metric-definitions). */
export const RATIO_PAIRS: readonly RatioPair[] = [
  { num: 'likes', den: 'viewers' }, { num: 'favorites', den: 'viewers' }, { num: 'shares', den: 'viewers' },
  { num: 'downloads', den: 'viewers' }, { num: 'exports', den: 'viewers' }, { num: 'completions', den: 'plays' },
  { num: 'regenerates', den: 'viewers' }, { num: 'discards', den: 'viewers' }, { num: 'dislikes', den: 'viewers' },
  { num: 'watch_sum', den: 'watch_n' }, { num: 'sat_sum', den: 'viewers' },
];

export const momentName = (a: RollupCounter, b: RollupCounter) => `m_${a}__${b}`;

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
