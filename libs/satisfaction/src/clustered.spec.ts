import { mulberry32 } from '@flywheel/random';
import { MOMENT_COLUMNS, ratioPair } from './cluster-moments';
import {
  VersionClusterSums, alwaysValidTest, clusterAdjustment, clusteredMean, clusteredRate, criticalValue,
  fixedHorizonTest, sampleRatioMismatch,
} from './clustered';
import { RollupCounter } from './rollup-contribution';

/** Mulberry32: a seeded uniform generator, so a failing replicate can be replayed. */
const rng = mulberry32;
function gaussian(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

interface Row { video: number; user: number; liked: number; score: number }
const COUNTERS: RollupCounter[] = ['viewers', 'likes', 'sat_sum', 'sat_sumsq'];


/**
 * What the ingest-worker keeps for one version, computed straight from its rows: rollup totals and, per video and per
 * user, the cluster sums and their moments Σ S_a·S_b (exactly what cluster_moments holds).
 */
function versionSums(rows: Row[]): VersionClusterSums {
  const totals = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<RollupCounter, number>;
  const kept = MOMENT_COLUMNS.filter((m) => COUNTERS.includes(m.a) && COUNTERS.includes(m.b));
  const clusters = (key: (r: Row) => number) => {
    const sums = new Map<number, { viewers: number; likes: number; sat_sum: number }>();
    for (const r of rows) {
      let s = sums.get(key(r));
      if (!s) sums.set(key(r), (s = { viewers: 0, likes: 0, sat_sum: 0 }));
      s.viewers += 1;
      s.likes += r.liked;
      s.sat_sum += r.score;
    }
    const moments: Record<string, number> = { clusters: sums.size };
    for (const m of MOMENT_COLUMNS) moments[m.name] = 0;
    for (const s of sums.values()) {
      for (const m of kept) moments[m.name] += s[m.a as keyof typeof s] * s[m.b as keyof typeof s];
    }
    return moments;
  };
  for (const r of rows) {
    totals.viewers += 1;
    totals.likes += r.liked;
    totals.sat_sum += r.score;
    totals.sat_sumsq += r.score * r.score;
  }
  return { totals, videoMoments: clusters((r) => r.video), userMoments: clusters((r) => r.user) };
}

/**
 * The world: some videos are better than others (σ = 0.7 on the logit), some users like everything
 * (σ = 0.8), `viewers` viewers per video drawn from a shared pool of users (feed design: users see both versions).
 */
function world(rand: () => number, options: { videos: number; viewers: number; users: number; lift?: number }) {
  const userEffect = Array.from({ length: options.users }, () => 0.8 * gaussian(rand));
  const arm = (lift: number, offset: number): Row[] => {
    const rows: Row[] = [];
    for (let g = 0; g < options.videos; g++) {
      const videoEffect = 0.7 * gaussian(rand);
      const seen = new Set<number>();
      while (seen.size < options.viewers) seen.add(Math.floor(rand() * options.users));
      for (const user of seen) {
        const logit = -1.4 + videoEffect + userEffect[user] + lift;
        const liked = rand() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
        rows.push({ video: offset + g, user, liked, score: Math.tanh(0.5 * (videoEffect + userEffect[user]) + 0.5 * gaussian(rand)) });
      }
    }
    return rows;
  };
  return { a: arm(0, 0), b: arm(options.lift ?? 0, 1_000_000) };
}

const like = ratioPair('likes', 'viewers');
const sat = ratioPair('sat_sum', 'viewers');

/** p-values (fixed horizon) of like rate and mean satisfaction, clustered or naive. */
function pValues(a: VersionClusterSums, b: VersionClusterSums, naive: boolean) {
  const adjust = (v: VersionClusterSums, pair: typeof like) => (naive ? { designEffect: 1, df: Infinity } : clusterAdjustment(pair, [v]));
  const rate = (v: VersionClusterSums) => clusteredRate(v.totals.likes, v.totals.viewers, adjust(v, like));
  const mean = (v: VersionClusterSums) => clusteredMean(v.totals.viewers, v.totals.sat_sum, v.totals.sat_sumsq, adjust(v, sat));
  const test = (x: ReturnType<typeof rate>, y: ReturnType<typeof rate>) =>
    fixedHorizonTest(y.estimate - x.estimate, Math.hypot(x.standardError, y.standardError), Math.min(x.df, y.df)).pValue;
  return [test(rate(a), rate(b)), test(mean(a), mean(b))];
}

describe('cluster-robust intervals, checked by simulation (A/A, video and user effects)', () => {
  const REPLICATES = 400;
  // 3 binomial standard errors around 5% at 400 replicates: 1.1 points each.
  const upper = 0.05 + 3 * Math.sqrt((0.05 * 0.95) / REPLICATES);

  it.each([
    ['16 viewers per video', 50, 16],
    ['100 viewers per video', 12, 100],
  ])('fixed-horizon false-positive rate is ≤ 5%% within binomial noise at %s; the naive row-level test is far above', (_, videos, viewers) => {
    const rand = rng(20261130 + viewers);
    let clusteredHits = [0, 0];
    let naiveHits = [0, 0];
    for (let i = 0; i < REPLICATES; i++) {
      const { a, b } = world(rand, { videos, viewers, users: 600 });
      const sa = versionSums(a);
      const sb = versionSums(b);
      clusteredHits = pValues(sa, sb, false).map((p, k) => clusteredHits[k] + (p < 0.05 ? 1 : 0));
      naiveHits = pValues(sa, sb, true).map((p, k) => naiveHits[k] + (p < 0.05 ? 1 : 0));
    }
    const rate = (hits: number[]) => hits.map((h) => h / REPLICATES);
    for (const r of rate(clusteredHits)) {
      expect(r).toBeLessThanOrEqual(upper);
      expect(r).toBeGreaterThan(0.005); // not vacuously conservative
    }
    for (const r of rate(naiveHits)) expect(r).toBeGreaterThan(0.1);
  });

  it('always-valid p-values keep 7 daily looks at ≤ 5% within binomial noise; fixed-horizon peeking does not', () => {
    const rand = rng(7);
    const reps = 300;
    let sequentialHits = 0;
    let peekingHits = 0;
    for (let i = 0; i < reps; i++) {
      const days = Array.from({ length: 7 }, () => world(rand, { videos: 8, viewers: 16, users: 400 }));
      let a: Row[] = [];
      let b: Row[] = [];
      let sequential = false;
      let peeking = false;
      days.forEach((day, d) => {
        for (const r of [...day.a, ...day.b]) r.video += d * 100;
        a = a.concat(day.a);
        b = b.concat(day.b);
        const sa = versionSums(a);
        const sb = versionSums(b);
        const ra = clusteredRate(sa.totals.likes, sa.totals.viewers, clusterAdjustment(like, [sa]));
        const rb = clusteredRate(sb.totals.likes, sb.totals.viewers, clusterAdjustment(like, [sb]));
        const se = Math.hypot(ra.standardError, rb.standardError);
        const df = Math.min(ra.df, rb.df);
        if (alwaysValidTest(rb.estimate - ra.estimate, se, df, sa.totals.viewers + sb.totals.viewers, 5000).pValue < 0.05) sequential = true;
        if (fixedHorizonTest(rb.estimate - ra.estimate, se, df).pValue < 0.05) peeking = true;
      });
      sequentialHits += sequential ? 1 : 0;
      peekingHits += peeking ? 1 : 0;
    }
    expect(sequentialHits / reps).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / reps));
    expect(peekingHits / reps).toBeGreaterThan(sequentialHits / reps);
    expect(peekingHits / reps).toBeGreaterThan(0.07);
  });

  it('still detects a real lift (+0.6 on the logit, about +10 points of like rate) most of the time', () => {
    const rand = rng(99);
    let hits = 0;
    for (let i = 0; i < 100; i++) {
      const { a, b } = world(rand, { videos: 60, viewers: 16, users: 600, lift: 0.6 });
      if (pValues(versionSums(a), versionSums(b), false)[0] < 0.05) hits++;
    }
    expect(hits).toBeGreaterThan(60);
  });
});

describe('clusterAdjustment', () => {
  const rows = (pattern: [number, number, number][]) => pattern.map(([video, user, liked]) => ({ video, user, liked, score: liked }));

  it('is 1 without clustering structure beyond the rows and > 1 when whole videos are liked or not', () => {
    // Each row its own video and user: clusters are rows, so no inflation.
    const independent = versionSums(rows(Array.from({ length: 40 }, (_, i) => [i, i, i % 3 === 0 ? 1 : 0])));
    expect(clusterAdjustment(like, [independent]).designEffect).toBeCloseTo(2 * (40 / 39) - 1, 6); // only the G / (G − 1) corrections of both one-way terms
    // Ten videos of 8 viewers, each video all-liked or all-not: the design effect is about the cluster size.
    const clustered = versionSums(rows(Array.from({ length: 80 }, (_, i) => [Math.floor(i / 8), i, Math.floor(i / 8) % 2])));
    const adjustment = clusterAdjustment(like, [clustered]);
    expect(adjustment.designEffect).toBeGreaterThan(7);
    expect(adjustment).toMatchObject({ videos: 10, users: 80, df: 9, estimated: true });
  });

  it('never narrows below the naive interval, and with a single video falls back to the naive variance with 1 df', () => {
    const one = versionSums(rows(Array.from({ length: 30 }, (_, i) => [0, i, i % 2])));
    const adjustment = clusterAdjustment(like, [one]);
    expect(adjustment).toMatchObject({ designEffect: 1, df: 1, estimated: false });
    const wide = clusteredRate(15, 30, adjustment);
    const naive = clusteredRate(15, 30, { designEffect: 1, df: Infinity });
    expect(wide.upper - wide.lower).toBeGreaterThan(naive.upper - naive.lower);
  });

  it('bounds the user term conservatively when versions are pooled (users span versions)', () => {
    const rand = rng(3);
    const { a, b } = world(rand, { videos: 30, viewers: 16, users: 60 });
    const pooled = clusterAdjustment(like, [versionSums(a), versionSums(b)]);
    const exact = clusterAdjustment(like, [versionSums([...a, ...b])]);
    expect(pooled.designEffect).toBeGreaterThanOrEqual(exact.designEffect - 1e-9);
  });
});

describe('always-valid and fixed-horizon tests', () => {
  it('the confidence sequence is wider than the fixed interval and tightest relative to it near the tuning size', () => {
    const fixed = fixedHorizonTest(0.01, 0.01, Infinity);
    const ratio = (n: number) => {
      const seq = alwaysValidTest(0.01, 0.01, Infinity, n, 5000);
      return (seq.upper - seq.lower) / (fixed.upper - fixed.lower);
    };
    expect(ratio(5000)).toBeGreaterThan(1);
    expect(ratio(5000)).toBeLessThan(ratio(100));
    expect(ratio(5000)).toBeLessThan(ratio(5_000_000));
  });

  it('its p-value is 1 at no difference and below 0.05 exactly when the interval excludes 0', () => {
    expect(alwaysValidTest(0, 0.01, Infinity, 1000, 5000).pValue).toBe(1);
    for (const d of [0.01, 0.02, 0.03, 0.04, 0.05, 0.06]) {
      const t = alwaysValidTest(d, 0.01, Infinity, 4000, 5000);
      expect(t.pValue < 0.05).toBe(t.lower > 0);
    }
  });

  it('t reference: 12.71 at 1 df, 1.96 for the normal', () => {
    expect(criticalValue(1)).toBeCloseTo(12.706, 3);
    expect(criticalValue(Infinity)).toBeCloseTo(1.96, 2);
  });
});

describe('sampleRatioMismatch', () => {
  it('flags a 50:50 design that got 5,400 : 4,600 and not one that got 5,050 : 4,950', () => {
    expect(sampleRatioMismatch([5400, 4600], [50, 50])).toMatchObject({ mismatch: true });
    expect(sampleRatioMismatch([5400, 4600], [50, 50]).chiSquare).toBeCloseTo(64, 6);
    expect(sampleRatioMismatch([5050, 4950], [50, 50])).toMatchObject({ mismatch: false });
    expect(sampleRatioMismatch([9000, 1000], [90, 10]).pValue).toBeCloseTo(1, 6);
  });

  it('keeps its false-alarm rate at the threshold under the declared split (simulation)', () => {
    const rand = rng(11);
    let alarms = 0;
    for (let i = 0; i < 2000; i++) {
      let a = 0;
      for (let k = 0; k < 500; k++) if (rand() < 0.3) a++;
      if (sampleRatioMismatch([a, 500 - a], [3, 7], 0.05).mismatch) alarms++;
    }
    expect(alarms / 2000).toBeLessThan(0.05 + 3 * Math.sqrt((0.05 * 0.95) / 2000));
    expect(alarms / 2000).toBeGreaterThan(0.02);
  });
});
