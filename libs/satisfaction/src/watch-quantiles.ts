/**
 * Watch time judged against videos of similar duration. Videos fall into duration buckets; each bucket keeps the
 * deciles of the watch ratio (watchMs / durationMs, capped at 1.5) seen in that bucket, and a user's watch ratio is
 * scored by its quantile rank (0..1) inside its bucket. Finishing a 10 s clip is common (rank 0.55 on a short-video
 * feed); finishing a 2 min video is rare (rank 0.8), so the same ratio says more on a longer video.
 */

export const DURATION_BUCKETS = ['lt5s', '5to15s', '15to30s', '30to60s', '60to180s', 'gt180s', 'unknown'] as const;
export type DurationBucket = (typeof DURATION_BUCKETS)[number];

/** Upper bounds (exclusive) of the known-duration buckets, in ms; longer videos go to `gt180s`. */
const BUCKET_UPPER_MS: ReadonlyArray<[DurationBucket, number]> = [
  ['lt5s', 5_000], ['5to15s', 15_000], ['15to30s', 30_000], ['30to60s', 60_000], ['60to180s', 180_000],
];

/** Same cap as the signal fold applies: a looped clip counts as at most one and a half views. */
export const WATCH_RATIO_CAP = 1.5;

export interface BucketQuantiles {
  /** Quantiles at evenly spaced probabilities 0, 1/k, …, 1 (deciles: 11 knots), non-decreasing. */
  knots: readonly number[];
  /** Samples the knots were learned from; 0 when they are the defaults. */
  samples: number;
  source: 'learned' | 'default';
}

export type WatchQuantiles = Readonly<Record<DurationBucket, BucketQuantiles>>;

export interface WatchSample {
  durationMs: number | null;
  /** Samples without a watch ratio are skipped. */
  watchRatio: number | null;
}

const defaults = (knots: number[]): BucketQuantiles => ({ knots, samples: 0, source: 'default' });

/**
 * Watch-ratio deciles measured on the KuaiRand like/hate log (41,828 real short-video views, rounded to 0.01).
 * KuaiRand has only 14 clips under 5 s, so `lt5s` reuses the 5–15 s deciles; `unknown` (a `complete` without a
 * duration) uses the deciles pooled over all durations.
 */
export const DEFAULT_WATCH_QUANTILES: WatchQuantiles = {
  lt5s: defaults([0, 0.2, 0.34, 0.53, 0.73, 0.92, 1.08, 1.22, 1.5, 1.5, 1.5]),
  '5to15s': defaults([0, 0.2, 0.34, 0.53, 0.73, 0.92, 1.08, 1.22, 1.5, 1.5, 1.5]),
  '15to30s': defaults([0, 0.11, 0.22, 0.42, 0.72, 0.94, 1.04, 1.09, 1.27, 1.5, 1.5]),
  '30to60s': defaults([0, 0.05, 0.11, 0.27, 0.57, 0.86, 0.98, 1.03, 1.07, 1.27, 1.5]),
  '60to180s': defaults([0, 0.02, 0.04, 0.07, 0.16, 0.35, 0.61, 0.87, 1, 1.03, 1.5]),
  gt180s: defaults([0, 0.01, 0.01, 0.02, 0.03, 0.09, 0.17, 0.31, 0.58, 0.97, 1.5]),
  unknown: defaults([0, 0.05, 0.17, 0.33, 0.56, 0.8, 0.98, 1.06, 1.22, 1.5, 1.5]),
};

const DECILES = 10;

export function durationBucket(durationMs: number | null): DurationBucket {
  if (durationMs === null || !Number.isFinite(durationMs) || durationMs <= 0) return 'unknown';
  for (const [bucket, upperMs] of BUCKET_UPPER_MS) if (durationMs < upperMs) return bucket;
  return 'gt180s';
}

/**
 * Learns the watch-ratio deciles of every bucket from observed views. A bucket with fewer than
 * `minSamplesPerBucket` samples keeps its default deciles: ten views do not make a distribution.
 */
export function learnWatchQuantiles(samples: Iterable<WatchSample>, minSamplesPerBucket = 200): WatchQuantiles {
  const ratios = new Map<DurationBucket, number[]>(DURATION_BUCKETS.map((bucket) => [bucket, []]));
  for (const { durationMs, watchRatio } of samples) {
    if (watchRatio === null || Number.isNaN(watchRatio)) continue;
    ratios.get(durationBucket(durationMs))!.push(clampRatio(watchRatio));
  }
  const learned = {} as Record<DurationBucket, BucketQuantiles>;
  for (const bucket of DURATION_BUCKETS) {
    const values = Float64Array.from(ratios.get(bucket)!).sort();
    learned[bucket] = values.length >= minSamplesPerBucket && values.length > 0
      ? { knots: evenQuantiles(values, DECILES), samples: values.length, source: 'learned' }
      : DEFAULT_WATCH_QUANTILES[bucket];
  }
  return learned;
}

/**
 * Rank (0..1) of `value` in the distribution the knots describe, read off the piecewise-linear quantile function.
 * On a flat run of knots (a point mass, e.g. many views at ratio 0 or at the 1.5 cap) it returns the middle of the
 * run — the mid-rank — so ties are neither rewarded nor punished.
 */
export function quantileRank(knots: readonly number[], value: number): number {
  const last = knots.length - 1;
  if (value < knots[0]) return 0;
  if (value > knots[last]) return 1;
  let first = 0; // first knot ≥ value
  while (knots[first] < value) first += 1;
  const rankBelow = first === 0
    ? 0
    : (first - 1 + (value - knots[first - 1]) / (knots[first] - knots[first - 1])) / last;
  let lastAtMost = last; // last knot ≤ value
  while (knots[lastAtMost] > value) lastAtMost -= 1;
  const rankAtMost = lastAtMost === last
    ? 1
    : (lastAtMost + (value - knots[lastAtMost]) / (knots[lastAtMost + 1] - knots[lastAtMost])) / last;
  return (rankBelow + rankAtMost) / 2;
}

export function clampRatio(ratio: number): number {
  return Math.min(Math.max(ratio, 0), WATCH_RATIO_CAP);
}

/** Quantiles at probabilities i/k of sorted values, interpolating linearly between order statistics (type 7). */
function evenQuantiles(sorted: Float64Array, k: number): number[] {
  const knots: number[] = [];
  for (let i = 0; i <= k; i++) {
    const position = (i / k) * (sorted.length - 1);
    const below = Math.floor(position);
    const above = Math.min(below + 1, sorted.length - 1);
    knots.push(sorted[below] + (sorted[above] - sorted[below]) * (position - below));
  }
  return knots;
}
