import {
  DEFAULT_WATCH_QUANTILES, DURATION_BUCKETS, WatchSample, durationBucket, learnWatchQuantiles, quantileRank,
} from './watch-quantiles';

describe('durationBucket', () => {
  it.each([
    [4_999, 'lt5s'], [5_000, '5to15s'], [14_999, '5to15s'], [15_000, '15to30s'], [30_000, '30to60s'],
    [60_000, '60to180s'], [179_999, '60to180s'], [180_000, 'gt180s'], [3_600_000, 'gt180s'],
  ] as const)('puts %p ms in %p', (durationMs, bucket) => {
    expect(durationBucket(durationMs)).toBe(bucket);
  });

  it('puts missing, zero and invalid durations in unknown', () => {
    for (const durationMs of [null, 0, -5, NaN]) expect(durationBucket(durationMs)).toBe('unknown');
  });
});

describe('quantileRank', () => {
  const knots = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

  it('interpolates linearly between knots', () => {
    expect(quantileRank(knots, 0.25)).toBeCloseTo(0.25, 12);
    expect(quantileRank(knots, 0.7)).toBeCloseTo(0.7, 12);
  });

  it('is 0 below the lowest knot and 1 above the highest', () => {
    expect(quantileRank([0.2, 0.4, 0.6], 0.1)).toBe(0);
    expect(quantileRank([0.2, 0.4, 0.6], 0.9)).toBe(1);
  });

  it('gives a point mass its mid-rank', () => {
    // 40% of views at exactly 0, the top 20% at the 1.5 cap
    const massed = [0, 0, 0, 0, 0, 0.3, 0.6, 0.9, 1.5, 1.5, 1.5];
    expect(quantileRank(massed, 0)).toBeCloseTo(0.2, 12);
    expect(quantileRank(massed, 1.5)).toBeCloseTo(0.9, 12);
    expect(quantileRank(massed, 0.45)).toBeCloseTo(0.55, 12);
  });
});

describe('learnWatchQuantiles', () => {
  const uniformShortViews = (count: number): WatchSample[] =>
    Array.from({ length: count }, (_, i) => ({ durationMs: 10_000, watchRatio: i / (count - 1) }));

  it('learns the deciles of a bucket with enough samples', () => {
    const learned = learnWatchQuantiles(uniformShortViews(1001), 200);
    expect(learned['5to15s'].source).toBe('learned');
    expect(learned['5to15s'].samples).toBe(1001);
    learned['5to15s'].knots.forEach((knot, i) => expect(knot).toBeCloseTo(i / 10, 12));
  });

  it('keeps the default deciles for buckets with too few samples', () => {
    const learned = learnWatchQuantiles([...uniformShortViews(1001), { durationMs: 90_000, watchRatio: 0.2 }], 200);
    expect(learned['60to180s']).toBe(DEFAULT_WATCH_QUANTILES['60to180s']);
    expect(learned['60to180s'].source).toBe('default');
    for (const bucket of DURATION_BUCKETS.filter((b) => b !== '5to15s')) {
      expect(learned[bucket].knots).toEqual(DEFAULT_WATCH_QUANTILES[bucket].knots);
    }
  });

  it('caps ratios at 1.5 and skips samples without a ratio', () => {
    const samples: WatchSample[] = [
      ...Array.from({ length: 10 }, () => ({ durationMs: 40_000, watchRatio: 4 })),
      ...Array.from({ length: 10 }, () => ({ durationMs: 40_000, watchRatio: null })),
    ];
    const learned = learnWatchQuantiles(samples, 10);
    expect(learned['30to60s'].samples).toBe(10);
    expect(new Set(learned['30to60s'].knots)).toEqual(new Set([1.5]));
  });

  it('has non-decreasing default knots that span the capped range in every bucket', () => {
    for (const bucket of DURATION_BUCKETS) {
      const { knots } = DEFAULT_WATCH_QUANTILES[bucket];
      expect(knots).toHaveLength(11);
      expect(knots[0]).toBe(0);
      expect(knots[10]).toBe(1.5);
      knots.slice(1).forEach((knot, i) => expect(knot).toBeGreaterThanOrEqual(knots[i]));
    }
  });
});
