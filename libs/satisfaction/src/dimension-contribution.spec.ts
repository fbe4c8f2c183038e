import { mulberry32 } from '@flywheel/random';
import { VersionClusterSums, clusterAdjustment, clusteredMean, fixedHorizonTest } from './clustered';
import { DIMENSION_MOMENT_COLUMNS, DIMENSION_PAIR, dimensionContribution, dimensionSatisfactionSums } from './dimension-contribution';

const rng = mulberry32;
const gaussian = (u: () => number) => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());

interface Rating { video: number; user: number; rating: number }

/** What the ingest-worker keeps for one version and dimension (dimension rollups and cluster moments), from its ratings. */
function dimensionSums(rows: Rating[]): VersionClusterSums {
  const totals = { rated: 0, rating_sum: 0, rating_sumsq: 0 };
  for (const r of rows) {
    const c = dimensionContribution(r.rating);
    totals.rated += c[0];
    totals.rating_sum += c[1];
    totals.rating_sumsq += c[2];
  }
  const moments = (key: (r: Rating) => number) => {
    const sums = new Map<number, { rated: number; rating_sum: number }>();
    for (const r of rows) {
      const s = sums.get(key(r)) ?? { rated: 0, rating_sum: 0 };
      s.rated += 1;
      s.rating_sum += r.rating;
      sums.set(key(r), s);
    }
    const out: Record<string, number> = { clusters: sums.size };
    for (const m of DIMENSION_MOMENT_COLUMNS) out[m.name] = [...sums.values()].reduce((t, s) => t + s[m.a as 'rated'] * s[m.b as 'rated'], 0);
    return out;
  };
  return { totals, videoMoments: moments((r) => r.video), userMoments: moments((r) => r.user) };
}

/**
 * A/A world for one rating dimension: videos differ in quality (σ 0.7 stars), users in leniency (σ 0.6 stars), whole
 * stars 1–5; `viewers` per video from a shared pool, 30% of whom rate the dimension.
 */
function world(rand: () => number, videos: number, viewers: number): [Rating[], Rating[]] {
  const users = 600;
  const leniency = Array.from({ length: users }, () => 0.6 * gaussian(rand));
  const arm = (offset: number) => {
    const rows: Rating[] = [];
    for (let g = 0; g < videos; g++) {
      const quality = 0.7 * gaussian(rand);
      const seen = new Set<number>();
      while (seen.size < viewers) seen.add(Math.floor(rand() * users));
      for (const user of seen) {
        if (rand() >= 0.3) continue;
        const rating = Math.max(1, Math.min(5, Math.round(3.2 + quality + leniency[user] + 0.8 * gaussian(rand))));
        rows.push({ video: offset + g, user, rating });
      }
    }
    return rows;
  };
  return [arm(0), arm(1_000_000)];
}

describe('rating dimensions: mean rating with cluster-robust intervals', () => {
  it('(rating − 3) / 2 summed from the rating sums is the per-dimension satisfaction, and has the same design effect', () => {
    const ratings = [1, 4, 5, 3, 2, 5];
    const s = dimensionSatisfactionSums(ratings.length, ratings.reduce((a, b) => a + b, 0), ratings.reduce((a, b) => a + b * b, 0));
    expect(s.sum).toBeCloseTo(ratings.reduce((a, r) => a + (r - 3) / 2, 0), 12);
    expect(s.sumSq).toBeCloseTo(ratings.reduce((a, r) => a + ((r - 3) / 2) ** 2, 0), 12);
    const [a] = world(rng(7), 30, 40);
    const sums = dimensionSums(a);
    const adjustment = clusterAdjustment(DIMENSION_PAIR, [sums]);
    const rating = clusteredMean(sums.totals.rated, sums.totals.rating_sum, sums.totals.rating_sumsq, adjustment);
    const sat = dimensionSatisfactionSums(sums.totals.rated, sums.totals.rating_sum, sums.totals.rating_sumsq);
    const satisfaction = clusteredMean(sums.totals.rated, sat.sum, sat.sumSq, adjustment);
    expect(satisfaction.lower).toBeCloseTo((rating.lower - 3) / 2, 9);
    expect(satisfaction.upper).toBeCloseTo((rating.upper - 3) / 2, 9);
  });

  const REPLICATES = 400;
  const upper = 0.05 + 3 * Math.sqrt((0.05 * 0.95) / REPLICATES);
  it.each([
    ['16 viewers per video', 60, 16],
    ['100 viewers per video', 15, 100],
  ])('A/A false-positive rate of the mean rating is ≤ 5%% within binomial noise at %s; the naive test is above', (_, videos, viewers) => {
    const rand = rng(12_000 + viewers);
    let clustered = 0;
    let naive = 0;
    for (let i = 0; i < REPLICATES; i++) {
      const [a, b] = world(rand, videos, viewers).map(dimensionSums);
      const p = (adjust: (v: VersionClusterSums) => { designEffect: number; df: number }) => {
        const [x, y] = [a, b].map((v) => clusteredMean(v.totals.rated, v.totals.rating_sum, v.totals.rating_sumsq, adjust(v)));
        return fixedHorizonTest(y.estimate - x.estimate, Math.hypot(x.standardError, y.standardError), Math.min(x.df, y.df)).pValue;
      };
      if (p((v) => clusterAdjustment(DIMENSION_PAIR, [v])) < 0.05) clustered++;
      if (p(() => ({ designEffect: 1, df: Infinity })) < 0.05) naive++;
    }
    expect(clustered / REPLICATES).toBeLessThanOrEqual(upper);
    expect(clustered / REPLICATES).toBeGreaterThan(0.005);
    expect(naive / REPLICATES).toBeGreaterThan(0.1);
  });
});
