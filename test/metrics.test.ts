import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { CreatedProject } from '@flywheel/database';
import {
  DIMENSION_MOMENT_COLUMNS, DIMENSION_PAIR, MOMENT_COLUMNS, ROLLUP_COUNTERS, RollupCounter, VersionClusterSums, alwaysValidTest,
  benjaminiHochberg, clusterAdjustment, clusteredMean, clusteredRate, fixedHorizonTest, ratioPair,
} from '@flywheel/satisfaction';
import { AppProcess, ROOT, TestContext, call, get, post, postAll, waitFor, prng } from './support/harness';

const Z = 1.959964;
const HOUR = 3_600_000;
const DAY1 = Date.UTC(2026, 10, 10); // the fixture spans 2026-11-10 and 2026-11-11 (UTC)
const WINDOW = 'from=2026-11-10T00:00:00Z&to=2026-11-12T00:00:00Z';

/** Wilson score interval, written out here so the test does not check the api against its own library. */
function wilson(successes: number, n: number): { value: number; low: number; high: number } {
  const p = successes / n;
  const centre = (p + (Z * Z) / (2 * n)) / (1 + (Z * Z) / n);
  const half = (Z / (1 + (Z * Z) / n)) * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n));
  return { value: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

function meanInterval(n: number, sum: number, sumSq: number): { value: number; low: number; high: number } {
  const mean = sum / n;
  const se = Math.sqrt((sumSq - (sum * sum) / n) / (n - 1) / n);
  return { value: mean, low: mean - Z * se, high: mean + Z * se };
}


interface View {
  videoId: string; version: string | null; category: string | null; day: string; liked: boolean; played: boolean; completed: boolean;
  /** Rating per rating dimension (text_alignment: 2.0 is rated a point higher; visual_quality: the same for both). */
  ratings: Record<string, number>;
}

/**
 * 40 videos of two model versions (2.0 is liked more, disliked less) in two categories; 30 users, about 70% of whom
 * react to each video, across two days. Some likes are taken back with an unlike. A few events are for a video whose
 * generation is never registered. Returns the events and, per (video, user), what the events say.
 */
function fixture() {
  const rnd = prng(20261110);
  const ratingRnd = prng(12); // its own stream: the other signals stay as they were drawn before ratings were added
  const generations = Array.from({ length: 40 }, (_, i) => ({
    videoId: `m${i}`, requestId: `r${Math.floor(i / 4)}`, prompt: `${i % 4 < 2 ? 'a cat' : 'a mountain'} number ${i}`,
    model: 'seedance', modelVersion: i % 2 ? '2.0' : '1.0', category: i % 4 < 2 ? 'pets' : 'travel',
    segment: i % 3 ? 'pro' : 'casual', durationMs: 8000, features: [i, 1, 0, 0], createdAt: new Date(DAY1 + i * 60_000).toISOString(),
  }));
  const events: Record<string, unknown>[] = [];
  const views: View[] = [];
  const videos = [...generations.map((g) => ({ videoId: g.videoId, version: g.modelVersion, category: g.category })), { videoId: 'orphan', version: null, category: null }];
  for (const video of videos) {
    const v2 = video.version === '2.0';
    for (let u = 0; u < 30; u++) {
      if (rnd() > 0.7) continue;
      const t0 = DAY1 + Math.floor(rnd() * 48) * HOUR + Math.floor(rnd() * 50) * 60_000;
      let k = 0;
      const add = (type: string, extra: Record<string, unknown> = {}) => events.push({
        eventId: `${video.videoId}-${u}-${k}`, type, videoId: video.videoId, userId: `user-${u}`,
        occurredAt: new Date(t0 + 1000 * k++).toISOString(), ...extra,
      });
      add('impression');
      const view: View = { videoId: video.videoId, version: video.version, category: video.category, day: new Date(t0).toISOString().slice(0, 10), liked: false, played: false, completed: false, ratings: {} };
      if (rnd() < 0.8) {
        view.played = true;
        add('play');
        add('progress', { watchMs: Math.floor(rnd() * 7000), durationMs: 8000 }); // below 98%: not a completion
        if (rnd() < (v2 ? 0.6 : 0.4)) { view.completed = true; add('complete', { durationMs: 8000 }); }
      }
      if (rnd() < (v2 ? 0.4 : 0.2)) {
        view.liked = true;
        add('like');
        if (rnd() < 0.15) { view.liked = false; add('unlike'); }
      }
      if (rnd() < (v2 ? 0.04 : 0.12)) add('dislike');
      if (rnd() < 0.08) add('share');
      if (rnd() < (v2 ? 0.1 : 0.04)) add('export');
      if (rnd() < (v2 ? 0.04 : 0.1)) add('regenerate');
      const clamp = (x: number) => Math.max(1, Math.min(5, Math.round(x)));
      // Per-dimension ratings; a video's quality moves all of its ratings (clustering by video).
      const videoEffect = ((Number(video.videoId.slice(1)) || 0) % 5) / 2 - 1;
      if (ratingRnd() < 0.5) {
        view.ratings.text_alignment = clamp(2.6 + (v2 ? 1 : 0) + videoEffect + 1.4 * (ratingRnd() - 0.5));
        if (ratingRnd() < 0.2) add('rate', { rating: clamp(view.ratings.text_alignment + 2), dimension: 'text_alignment' }); // changed below
        add('rate', { rating: view.ratings.text_alignment, dimension: 'text_alignment' });
      }
      if (ratingRnd() < 0.4) {
        view.ratings.visual_quality = clamp(3 + videoEffect + 2 * (ratingRnd() - 0.5));
        add('rate', { rating: view.ratings.visual_quality, dimension: 'visual_quality' });
      }
      views.push(view);
    }
  }
  return { generations, events, views };
}

describe('satisfaction metrics API', () => {
  const ctx = new TestContext('metrics');
  const data = fixture();
  let api: AppProcess;
  let project: CreatedProject;

  beforeAll(async () => {
    await ctx.setUp();
    let worker: AppProcess;
    [api, worker] = await Promise.all([ctx.startApi(), ctx.startWorker()]);
    void worker;
    project = await ctx.createProject(4);
    await expect(post(`${api.url}/v1/generations`, project.ingestKey, { generations: data.generations })).resolves.toMatchObject({ status: 202 });
    const generations = () => ctx.count('SELECT count(*) FROM generations WHERE project_id = $1', [project.projectId]);
    await waitFor(async () => (await generations()) === data.generations.length, 20000, 'generations stored');
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < data.events.length; i += 500) batches.push(data.events.slice(i, i + 500));
    const accepted = new Set<string>();
    await postAll(api, project.ingestKey, batches, accepted);
    expect(accepted.size).toBe(data.events.length);
    const stored = () => ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [project.projectId]);
    await waitFor(async () => (await stored()) === data.events.length, 60000, 'events stored');
  }, 120000);
  afterAll(() => ctx.tearDown(), 30000);

  const metrics = (path: string, key = project.secretKey) => get(`${api.url}/v1/metrics/${path}`, key);

  /** Per (day, version) sums of the scores the worker stored on each (video, user) row: independent of the rollups. */
  async function rawScores(extraWhere = '', params: unknown[] = []) {
    const rows: { day: string; version: string | null; n: number; sum: number; sumsq: number }[] = await ctx.db.query(
      `SELECT to_char(date_trunc('day', s.first_event_at, 'UTC'), 'YYYY-MM-DD') AS day, g.model_version AS version,
              count(*)::int AS n, sum(s.satisfaction::float8) AS sum, sum((s.satisfaction::float8) ^ 2) AS sumsq
         FROM video_user_signals s
         LEFT JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
        WHERE s.project_id = $1 ${extraWhere}
        GROUP BY 1, 2`,
      [project.projectId, ...params],
    );
    return rows;
  }

  /**
   * A version's cluster sums computed here from its signal rows (not from the aggregate tables the api reads): totals
   * of likes and satisfaction, and per video and per user the sums and their moments.
   */
  async function clusterSumsOf(version: string | null): Promise<VersionClusterSums> {
    const rows: { video_id: string; user_hash: string; liked: boolean; sat: number }[] = await ctx.db.query(
      `SELECT s.video_id, s.user_hash, s.liked, s.satisfaction::float8 AS sat
         FROM video_user_signals s LEFT JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
        WHERE s.project_id = $1 AND g.model_version IS NOT DISTINCT FROM $2`,
      [project.projectId, version],
    );
    const totals = Object.fromEntries(ROLLUP_COUNTERS.map((c) => [c, 0])) as Record<RollupCounter, number>;
    for (const r of rows) {
      totals.viewers += 1;
      totals.likes += r.liked ? 1 : 0;
      totals.sat_sum += r.sat;
      totals.sat_sumsq += r.sat * r.sat;
    }
    const moments = (key: (r: (typeof rows)[number]) => string) => {
      const sums = new Map<string, Record<string, number>>();
      for (const r of rows) {
        const s = sums.get(key(r)) ?? { viewers: 0, likes: 0, sat_sum: 0 };
        s.viewers += 1;
        s.likes += r.liked ? 1 : 0;
        s.sat_sum += r.sat;
        sums.set(key(r), s);
      }
      const out: Record<string, number> = { clusters: sums.size };
      for (const m of MOMENT_COLUMNS) out[m.name] = [...sums.values()].reduce((t, s) => t + (s[m.a] ?? 0) * (s[m.b] ?? 0), 0);
      return out;
    };
    return { totals, videoMoments: moments((r) => r.video_id), userMoments: moments((r) => r.user_hash) };
  }
  const LIKE = ratioPair('likes', 'viewers');
  const SATISFACTION = ratioPair('sat_sum', 'viewers');

  it('answers rates and mean satisfaction per day and model version with cluster-robust intervals, as the raw data says', async () => {
    const response = await metrics(`satisfaction?${WINDOW}&granularity=day&groupBy=modelVersion`);
    expect(response.status).toBe(200);
    const { body } = response;
    expect(body).toMatchObject({ from: '2026-11-10T00:00:00.000Z', to: '2026-11-12T00:00:00.000Z', granularity: 'day', groupBy: ['model', 'modelVersion'] });
    expect(body.method).toMatchObject({ unit: 'video+user', variance: 'cgm-two-way', window: 'design-effect', confidence: 0.95 });
    const scores = await rawScores();
    const sums = new Map<string, VersionClusterSums>();
    for (const version of ['1.0', '2.0', null]) sums.set(String(version), await clusterSumsOf(version));
    const cells = new Map<string, View[]>();
    for (const view of data.views) {
      const id = `${view.day}|${view.version}`;
      cells.set(id, [...(cells.get(id) ?? []), view]);
    }
    expect(body.series).toHaveLength(cells.size); // 2 days × (2 versions + unattributed)
    for (const point of body.series) {
      const id = `${point.bucket.slice(0, 10)}|${point.group.modelVersion}`;
      const views = cells.get(id)!;
      expect(views).toBeDefined();
      expect(point.group.model).toBe(point.group.modelVersion === null ? null : 'seedance');
      expect(point.n).toBe(views.length);
      const version = sums.get(String(point.group.modelVersion))!;
      const likes = views.filter((v) => v.liked).length;
      const like = clusteredRate(likes, views.length, clusterAdjustment(LIKE, [version]));
      const naive = wilson(likes, views.length);
      expect(point.metrics.like.n).toBe(views.length);
      expect(point.metrics.like.value).toBeCloseTo(naive.value, 12);
      expect(point.metrics.like.low).toBeCloseTo(like.lower, 9);
      expect(point.metrics.like.high).toBeCloseTo(like.upper, 9);
      expect(point.metrics.like.designEffect).toBeCloseTo(like.designEffect, 9);
      // Never narrower than the naive (row-level) interval.
      expect(point.metrics.like.low).toBeLessThanOrEqual(naive.low + 1e-12);
      expect(point.metrics.like.high).toBeGreaterThanOrEqual(naive.high - 1e-12);
      const played = views.filter((v) => v.played);
      const completion = wilson(played.filter((v) => v.completed).length, played.length);
      expect(point.metrics.completion).toMatchObject({ n: played.length });
      expect(point.metrics.completion.value).toBeCloseTo(completion.value, 12);
      expect(point.metrics.completion.low).toBeLessThanOrEqual(completion.low + 1e-12);

      const raw = scores.find((s) => `${s.day}|${s.version}` === id)!;
      expect(raw.n).toBe(views.length);
      const naiveSatisfaction = meanInterval(raw.n, raw.sum, raw.sumsq);
      const satisfaction = clusteredMean(raw.n, raw.sum, raw.sumsq, clusterAdjustment(SATISFACTION, [version]));
      expect(point.metrics.satisfaction.n).toBe(raw.n);
      expect(point.metrics.satisfaction.value).toBeCloseTo(naiveSatisfaction.value, 9);
      expect(point.metrics.satisfaction.low).toBeCloseTo(satisfaction.lower, 9);
      expect(point.metrics.satisfaction.high).toBeCloseTo(satisfaction.upper, 9);
      expect(point.metrics.satisfaction.low).toBeLessThanOrEqual(naiveSatisfaction.low + 1e-9);
    }
  });

  it('filters by category and sums hours into the requested buckets', async () => {
    const [hourly, daily] = await Promise.all([
      metrics(`satisfaction?${WINDOW}&granularity=hour&groupBy=modelVersion&category=pets`),
      metrics(`satisfaction?${WINDOW}&granularity=day&modelVersion=1.0,2.0&category=pets`),
    ]);
    expect(hourly.status).toBe(200);
    expect(daily.status).toBe(200);
    const pets = data.views.filter((v) => v.category === 'pets');
    const viewers = (series: { n: number }[]) => series.reduce((sum, p) => sum + p.n, 0);
    expect(viewers(hourly.body.series)).toBe(pets.length);
    expect(daily.body.series).toHaveLength(2);
    expect(daily.body.series.map((p: { group: object }) => p.group)).toEqual([{}, {}]);
    expect(viewers(daily.body.series)).toBe(pets.length);
    const day1 = pets.filter((v) => v.day === '2026-11-10');
    expect(daily.body.series[0].metrics.like.value).toBeCloseTo(day1.filter((v) => v.liked).length / day1.length, 12);
    const raw = await rawScores(`AND g.category = 'pets' AND g.model_version IN ('1.0', '2.0')`);
    const day1Raw = raw.filter((r) => r.day === '2026-11-10');
    const sum = day1Raw.reduce((s, r) => s + r.sum, 0);
    const n = day1Raw.reduce((s, r) => s + r.n, 0);
    expect(daily.body.series[0].metrics.satisfaction.value).toBeCloseTo(sum / n, 9);
  });

  it('compares two versions: differences with intervals, p-values and Benjamini–Hochberg significance', async () => {
    const response = await metrics(`compare?baseline=1.0&candidate=2.0&${WINDOW}`);
    expect(response.status).toBe(200);
    const { body } = response;
    const arm = (version: string) => data.views.filter((v) => v.version === version);
    const [a, b] = [arm('1.0'), arm('2.0')];
    expect(body.baseline).toEqual({ model: null, modelVersion: '1.0', n: a.length, videos: 0 });
    expect(body.candidate).toEqual({ model: null, modelVersion: '2.0', n: b.length, videos: 0 });
    expect(body.method).toMatchObject({ inference: 'always-valid', sequential: { kind: 'gaussian-mixture-sprt', tuning: 5000, alpha: 0.05 } });
    expect(body.srm).toBeNull();
    expect(body.multipleTesting).toEqual({ method: 'benjamini-hochberg', q: 0.05, tests: 11 });
    expect(body.metrics.map((m: { metric: string }) => m.metric)).toEqual([
      'like', 'favorite', 'share', 'download', 'export', 'completion', 'regenerate', 'discard', 'dislike', 'watchRatio', 'satisfaction',
    ]);
    const like = body.metrics.find((m: { metric: string }) => m.metric === 'like');
    const likes = (views: View[]) => ({ successes: views.filter((v) => v.liked).length, n: views.length });
    const [ea, eb] = [[a, '1.0'], [b, '2.0']].map(([views, version]) => ({ views: views as View[], version: version as string }));
    const estimateOf = async ({ views, version }: typeof ea) =>
      clusteredRate(likes(views).successes, views.length, clusterAdjustment(LIKE, [await clusterSumsOf(version)]));
    const [ra, rb] = [await estimateOf(ea), await estimateOf(eb)];
    const se = Math.hypot(ra.standardError, rb.standardError);
    const sequential = alwaysValidTest(rb.estimate - ra.estimate, se, Math.min(ra.df, rb.df), a.length + b.length, 5000);
    const fixed = fixedHorizonTest(rb.estimate - ra.estimate, se, Math.min(ra.df, rb.df));
    expect(like.difference.value).toBeCloseTo(likes(b).successes / b.length - likes(a).successes / a.length, 12);
    expect(like.difference.low).toBeCloseTo(sequential.lower, 9);
    expect(like.difference.high).toBeCloseTo(sequential.upper, 9);
    expect(like.pValue).toBeCloseTo(sequential.pValue, 9);
    expect(like.fixedHorizon.low).toBeCloseTo(fixed.lower, 9);
    expect(like.fixedHorizon.pValue).toBeCloseTo(fixed.pValue, 9);
    expect(like.lift.value).toBeCloseTo((likes(b).successes / b.length) / (likes(a).successes / a.length) - 1, 12);
    expect(like.significant).toBe(true); // 20% against 34%, n ≈ 420 each, 20 videos and 30 users per version

    const raw = await rawScores(`AND g.model_version IS NOT NULL`);
    const total = (version: string) => raw.filter((r) => r.version === version).reduce((t, r) => ({ n: t.n + r.n, sum: t.sum + r.sum }), { n: 0, sum: 0 });
    const satisfaction = body.metrics.find((m: { metric: string }) => m.metric === 'satisfaction');
    expect(satisfaction.baseline.value).toBeCloseTo(total('1.0').sum / total('1.0').n, 9);
    expect(satisfaction.difference.value).toBeCloseTo(total('2.0').sum / total('2.0').n - total('1.0').sum / total('1.0').n, 9);
    expect(satisfaction.difference.low).toBeLessThan(satisfaction.difference.value);

    const pValues = body.metrics.map((m: { pValue: number }) => m.pValue);
    expect(body.metrics.map((m: { significant: boolean }) => m.significant)).toEqual(benjaminiHochberg(pValues, 0.05));
  });

  it('compares model:version sides, fixed-horizon on request, with a sample-ratio-mismatch test', async () => {
    const bare = await metrics(`compare?baseline=1.0&candidate=2.0&${WINDOW}`);
    const qualified = await metrics(`compare?baseline=seedance:1.0&candidate=seedance:2.0&${WINDOW}&fixedHorizon=true&expectedSplit=50:50`);
    expect(qualified.status).toBe(200);
    expect(qualified.body.baseline).toMatchObject({ model: 'seedance', modelVersion: '1.0', n: bare.body.baseline.n, videos: 20 });
    expect(qualified.body.method.inference).toBe('fixed-horizon');
    qualified.body.metrics.forEach((m: { pValue: number | null; fixedHorizon: { pValue: number | null } }, i: number) => {
      expect(m.pValue).toBe(m.fixedHorizon.pValue);
      expect(m.fixedHorizon).toEqual(bare.body.metrics[i].fixedHorizon);
    });
    expect(qualified.body.srm).toMatchObject({ unit: 'videos', observed: { baseline: 20, candidate: 20 }, expected: { baseline: 0.5, candidate: 0.5 }, mismatch: false });
    const skewed = await metrics(`compare?baseline=seedance:1.0&candidate=seedance:2.0&${WINDOW}&expectedSplit=97:3`);
    expect(skewed.body.srm).toMatchObject({ mismatch: true, observed: { baseline: 20, candidate: 20 } });
    expect(skewed.body.srm.pValue).toBeLessThan(0.001);
    expect(skewed.body.srm.message).toMatch(/^SAMPLE RATIO MISMATCH/);
    // Another model's side: a generator with no data here has no estimates, the other side keeps its own.
    const other = await metrics(`compare?baseline=veo:1.0&candidate=seedance:2.0&${WINDOW}`);
    expect(other.body.baseline).toMatchObject({ model: 'veo', modelVersion: '1.0', n: 0 });
    expect(other.body.candidate.n).toBe(bare.body.candidate.n);
  });

  it('runs the SRM test against the split the project declared for the pair when the query gives none', async () => {
    const splits = (method: string, body?: unknown, query = '', key = project.secretKey) => call(method, `${api.url}/v1/metrics/traffic-splits${query}`, key, body);
    const pair = `baseline=seedance:1.0&candidate=seedance:2.0&${WINDOW}`;
    const reversed = `baseline=seedance:2.0&candidate=seedance:1.0&${WINDOW}`;
    await expect(splits('GET')).resolves.toMatchObject({ status: 200, body: { splits: [] } });
    expect((await metrics(`compare?${pair}`)).body.srm).toBeNull();

    const declared = await splits('PUT', { baseline: 'seedance:1.0', candidate: 'seedance:2.0', split: '97:3' });
    expect(declared).toMatchObject({ status: 200, body: { baseline: 'seedance:1.0', candidate: 'seedance:2.0', split: '97:3', expected: { baseline: 0.97, candidate: 0.03 } } });
    // 20 : 20 generations against a declared 97:3: flagged, and the answer says where the split came from.
    const flagged = (await metrics(`compare?${pair}`)).body.srm;
    expect(flagged).toMatchObject({ source: 'declared', mismatch: true, observed: { baseline: 20, candidate: 20 } });
    expect(flagged.expected.baseline).toBeCloseTo(0.97, 12);
    expect(flagged.message).toMatch(/^SAMPLE RATIO MISMATCH/);
    // The same pair the other way round reads the declaration with its shares swapped.
    const other = (await metrics(`compare?${reversed}`)).body.srm;
    expect(other).toMatchObject({ source: 'declared', mismatch: true });
    expect(other.expected.baseline).toBeCloseTo(0.03, 12);
    // The query's expectedSplit wins over the declaration; other pairs are not affected.
    await expect(metrics(`compare?${pair}&expectedSplit=50:50`)).resolves.toMatchObject({ body: { srm: { source: 'query', mismatch: false } } });
    expect((await metrics(`compare?baseline=1.0&candidate=2.0&${WINDOW}`)).body.srm).toBeNull();

    // Declaring the reversed pair replaces it: one declaration per pair.
    await expect(splits('PUT', { baseline: 'seedance:2.0', candidate: 'seedance:1.0', split: '1:1' })).resolves.toMatchObject({ status: 200 });
    await expect(splits('GET')).resolves.toMatchObject({ body: { splits: [{ baseline: 'seedance:2.0', candidate: 'seedance:1.0', split: '1:1' }] } });
    await expect(metrics(`compare?${pair}`)).resolves.toMatchObject({ body: { srm: { source: 'declared', mismatch: false, expected: { baseline: 0.5 } } } });

    const refused: [unknown, string][] = [
      [{ baseline: 'seedance:1.0', candidate: 'seedance:2.0', split: '0:1' }, 'split'],
      [{ baseline: 'seedance:1.0', candidate: 'seedance:2.0' }, 'split'],
      [{ baseline: 'seedance:1.0', split: '50:50' }, 'candidate'],
      [{ baseline: 'seedance:1.0', candidate: '1.0', split: '50:50' }, 'candidate'],
      [{ baseline: 'seedance:', candidate: 'seedance:2.0', split: '50:50' }, 'baseline'],
    ];
    for (const [body, field] of refused) {
      const response = await splits('PUT', body);
      expect({ body, status: response.status, field: response.body?.error?.details?.[0]?.field }).toEqual({ body, status: 400, field });
    }
    await expect(splits('PUT', { baseline: 'seedance:1.0', candidate: 'seedance:2.0', split: '50:50' }, '', project.ingestKey)).resolves.toMatchObject({ status: 403 });

    await expect(splits('DELETE', undefined, '?baseline=seedance:1.0&candidate=seedance:2.0')).resolves.toMatchObject({ status: 200, body: { removed: true } });
    await expect(splits('DELETE', undefined, '?baseline=seedance:1.0&candidate=seedance:2.0')).resolves.toMatchObject({ status: 404 });
    expect((await metrics(`compare?${pair}`)).body.srm).toBeNull();
    await expect(splits('GET')).resolves.toMatchObject({ body: { splits: [] } });
  });

  it('filters the unknown category explicitly', async () => {
    const unknown = await metrics(`satisfaction?${WINDOW}&category=(unknown)`);
    expect(unknown.status).toBe(200);
    const orphan = data.views.filter((v) => v.category === null).length;
    expect(orphan).toBeGreaterThan(0);
    expect(unknown.body.series.reduce((s: number, p: { n: number }) => s + p.n, 0)).toBe(orphan);
    const both = await metrics(`satisfaction?${WINDOW}&category=pets,(unknown)`);
    expect(both.body.series.reduce((s: number, p: { n: number }) => s + p.n, 0)).toBe(orphan + data.views.filter((v) => v.category === 'pets').length);
  });

  it('ranks videos by satisfaction shrunk toward the project mean', async () => {
    const response = await metrics(`videos?${WINDOW}&limit=3&minViewers=5`);
    expect(response.status).toBe(200);
    const rows: { video_id: string; n: number; sum: number; version: string; prompt: string }[] = await ctx.db.query(
      `SELECT s.video_id, count(*)::int AS n, sum(s.satisfaction::float8) AS sum, g.model_version AS version, g.prompt
         FROM video_user_signals s LEFT JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
        WHERE s.project_id = $1 GROUP BY 1, 4, 5`,
      [project.projectId],
    );
    // The window selects videos by their generation's creation: all 40 generated ones (not the orphan's rows).
    const generated = rows.filter((r) => r.version !== null);
    const prior = generated.reduce((s, r) => s + r.sum, 0) / generated.reduce((s, r) => s + r.n, 0);
    const ranked = generated.filter((r) => r.n >= 5)
      .map((r) => ({ videoId: r.video_id, modelVersion: r.version, prompt: r.prompt, n: r.n, mean: r.sum / r.n, shrunk: (r.sum + prior * 5) / (r.n + 5) }))
      .sort((x, y) => y.shrunk - x.shrunk || x.videoId.localeCompare(y.videoId));
    expect(response.body).toMatchObject({ source: 'video_aggregates', windowApplies: 'generation createdAt' });
    expect(response.body.priorMean).toBeCloseTo(prior, 9);
    for (const v of response.body.best) expect(v.low).toBeLessThan(v.mean);
    expect(response.body.priorStrength).toBe(5);
    const check = (actual: Record<string, unknown>[], expected: typeof ranked) => {
      expect(actual.map((v) => [v.videoId, v.modelVersion, v.prompt, v.n])).toEqual(expected.map((v) => [v.videoId, v.modelVersion, v.prompt, v.n]));
      actual.forEach((v, i) => {
        expect(v.mean).toBeCloseTo(expected[i].mean, 9);
        expect(v.shrunk).toBeCloseTo(expected[i].shrunk, 9);
      });
    };
    check(response.body.best, ranked.slice(0, 3));
    check(response.body.worst, ranked.slice(-3).reverse());

    const v2only = await metrics(`videos?${WINDOW}&modelVersion=2.0&limit=100`);
    expect(v2only.body.best.every((v: { modelVersion: string }) => v.modelVersion === '2.0')).toBe(true);
    expect(v2only.body.best).toHaveLength(20);
    const later = await metrics('videos?from=2026-11-10T12:00:00Z&to=2026-11-12T00:00:00Z&limit=100');
    expect(later.body.best).toEqual([]); // generated before the window
    const pets = await metrics(`videos?${WINDOW}&category=pets&limit=100`);
    expect(pets.body.best.length).toBe(20);
    expect(pets.body.best.every((v: { category: string }) => v.category === 'pets')).toBe(true);
  });

  it('reads whole days from the daily rollups, which the triggers keep equal to the hourly ones, also through a rebuild', async () => {
    const compareTables = async () => {
      const daily: Record<string, unknown>[] = await ctx.db.query(
        `SELECT day, model, model_version, category, segment, ${ROLLUP_COUNTERS.map((c) => `${c}::float8 AS ${c}`).join(', ')}
           FROM satisfaction_rollups_daily WHERE project_id = $1 AND viewers <> 0 ORDER BY 1, 2, 3, 4, 5`,
        [project.projectId],
      );
      const hourly: Record<string, unknown>[] = await ctx.db.query(
        `SELECT date_trunc('day', hour, 'UTC') AS day, model, model_version, category, segment,
                ${ROLLUP_COUNTERS.map((c) => `sum(${c})::float8 AS ${c}`).join(', ')}
           FROM satisfaction_rollups WHERE project_id = $1 GROUP BY 1, 2, 3, 4, 5 HAVING sum(viewers) <> 0 ORDER BY 1, 2, 3, 4, 5`,
        [project.projectId],
      );
      expect(daily.length).toBeGreaterThan(0);
      expect(daily.map((r) => [r.day, r.model_version, r.category, r.segment])).toEqual(hourly.map((r) => [r.day, r.model_version, r.category, r.segment]));
      daily.forEach((row, i) => ROLLUP_COUNTERS.forEach((c) => expect(row[c]).toBeCloseTo(hourly[i][c] as number, 9)));
    };
    await compareTables();
    const before = await metrics(`compare?baseline=1.0&candidate=2.0&${WINDOW}`);
    // The rebuild deletes and re-inserts the project's hourly rows: the daily ones follow.
    execFileSync(process.execPath, [path.join(ROOT, 'dist/apps/cli/src/main.js'), 'metrics', 'rebuild', '--project', project.projectId, '--json'], { env: ctx.env() });
    await compareTables();
    const after = await metrics(`compare?baseline=1.0&candidate=2.0&${WINDOW}`);
    after.body.metrics.forEach((m: { difference: { value: number; low: number } }, i: number) => {
      expect(m.difference.value).toBeCloseTo(before.body.metrics[i].difference.value, 9);
      expect(m.difference.low).toBeCloseTo(before.body.metrics[i].difference.low, 9); // the aggregates are rebuilt too
    });

    // A window with ragged ends (hours from both tables) gives what hourly buckets summed per day give.
    const ragged = 'from=2026-11-10T05:00:00Z&to=2026-11-11T17:00:00Z';
    const [byDay, byHour] = await Promise.all([
      metrics(`satisfaction?${ragged}&granularity=day`),
      metrics(`satisfaction?${ragged}&granularity=hour`),
    ]);
    const perDay = new Map<string, number>();
    for (const p of byHour.body.series) perDay.set(p.bucket.slice(0, 10), (perDay.get(p.bucket.slice(0, 10)) ?? 0) + p.n);
    expect(byDay.body.series.map((p: { bucket: string; n: number }) => [p.bucket.slice(0, 10), p.n])).toEqual([...perDay.entries()]);
    const inWindow = data.views.filter((v) => v.day === '2026-11-10' || v.day === '2026-11-11');
    expect(byDay.body.series.reduce((s: number, p: { n: number }) => s + p.n, 0)).toBeLessThan(inWindow.length);
  });

  /** One rating dimension's cluster sums of a version, from the signal rows' dimension_ratings (not the tables the api reads). */
  async function dimensionSumsOf(version: string | null, dimension: string): Promise<VersionClusterSums> {
    const rows: { video_id: string; user_hash: string; rating: number }[] = await ctx.db.query(
      `SELECT s.video_id, s.user_hash, (s.dimension_ratings ->> $3)::float8 AS rating
         FROM video_user_signals s LEFT JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
        WHERE s.project_id = $1 AND g.model_version IS NOT DISTINCT FROM $2 AND s.dimension_ratings ? $3`,
      [project.projectId, version, dimension],
    );
    const totals = { rated: rows.length, rating_sum: 0, rating_sumsq: 0 };
    for (const r of rows) {
      totals.rating_sum += r.rating;
      totals.rating_sumsq += r.rating * r.rating;
    }
    const moments = (key: (r: (typeof rows)[number]) => string) => {
      const sums = new Map<string, Record<string, number>>();
      for (const r of rows) {
        const c = sums.get(key(r)) ?? { rated: 0, rating_sum: 0 };
        c.rated += 1;
        c.rating_sum += r.rating;
        sums.set(key(r), c);
      }
      const out: Record<string, number> = { clusters: sums.size };
      for (const m of DIMENSION_MOMENT_COLUMNS) out[m.name] = [...sums.values()].reduce((t, c) => t + c[m.a] * c[m.b], 0);
      return out;
    };
    return { totals, videoMoments: moments((r) => r.video_id), userMoments: moments((r) => r.user_hash) };
  }

  it('reads a rating dimension: its mean rating and satisfaction per day and version, with cluster-robust intervals', async () => {
    const response = await metrics(`satisfaction?${WINDOW}&granularity=day&groupBy=modelVersion&dimension=text_alignment`);
    expect(response.status).toBe(200);
    const { body } = response;
    expect(body).toMatchObject({ dimension: 'text_alignment', granularity: 'day', groupBy: ['model', 'modelVersion'] });
    const rated = data.views.filter((v) => v.ratings.text_alignment !== undefined);
    const cells = new Map<string, View[]>();
    for (const view of rated) cells.set(`${view.day}|${view.version}`, [...(cells.get(`${view.day}|${view.version}`) ?? []), view]);
    expect(body.series).toHaveLength(cells.size);
    const sums = new Map<string, VersionClusterSums>();
    for (const version of ['1.0', '2.0', null]) sums.set(String(version), await dimensionSumsOf(version, 'text_alignment'));
    for (const point of body.series) {
      const views = cells.get(`${point.bucket.slice(0, 10)}|${point.group.modelVersion}`)!;
      expect(Object.keys(point.metrics)).toEqual(['rating', 'satisfaction']);
      const ratings = views.map((v) => v.ratings.text_alignment);
      const sum = ratings.reduce((a, b) => a + b, 0);
      const sumSq = ratings.reduce((a, b) => a + b * b, 0);
      expect(point.n).toBe(views.length);
      expect(point.metrics.rating.n).toBe(views.length);
      expect(point.metrics.rating.value).toBeCloseTo(sum / views.length, 12);
      const adjustment = clusterAdjustment(DIMENSION_PAIR, [sums.get(String(point.group.modelVersion))!]);
      if (point.group.modelVersion !== null) expect(adjustment.estimated).toBe(true); // the orphan is one video: a floor
      const expected = clusteredMean(views.length, sum, sumSq, adjustment);
      expect(point.metrics.rating.low).toBeCloseTo(expected.lower, 9);
      expect(point.metrics.rating.high).toBeCloseTo(expected.upper, 9);
      expect(point.metrics.rating.designEffect).toBeCloseTo(adjustment.designEffect, 9);
      const naive = meanInterval(views.length, sum, sumSq);
      expect(point.metrics.rating.low).toBeLessThanOrEqual(naive.low + 1e-9);
      expect(point.metrics.rating.high).toBeGreaterThanOrEqual(naive.high - 1e-9);
      // The dimension's satisfaction (rating − 3) / 2: the same interval, mapped.
      expect(point.metrics.satisfaction.value).toBeCloseTo((sum / views.length - 3) / 2, 12);
      expect(point.metrics.satisfaction.low).toBeCloseTo((expected.lower - 3) / 2, 9);
      expect(point.metrics.satisfaction.high).toBeCloseTo((expected.upper - 3) / 2, 9);
    }
    // The video effect makes ratings cluster by video: the interval is wider than the naive one somewhere.
    expect(body.series.some((p: { metrics: { rating: { designEffect: number } } }) => p.metrics.rating.designEffect > 1.2)).toBe(true);

    const filtered = await metrics(`satisfaction?${WINDOW}&granularity=hour&category=pets&dimension=visual_quality`);
    expect(filtered.status).toBe(200);
    const pets = data.views.filter((v) => v.category === 'pets' && v.ratings.visual_quality !== undefined);
    expect(filtered.body.series.reduce((t: number, p: { n: number }) => t + p.n, 0)).toBe(pets.length);
    const lists = await metrics(`dimensions?${WINDOW}`);
    expect(lists.body.ratingDimensions).toEqual(['visual_quality', 'motion_quality', 'text_alignment']);
  });

  it('compares two versions on a rating dimension, and ranks videos by it', async () => {
    const response = await metrics(`compare?baseline=1.0&candidate=2.0&${WINDOW}&dimension=text_alignment`);
    expect(response.status).toBe(200);
    const { body } = response;
    const arm = (version: string) => data.views.filter((v) => v.version === version && v.ratings.text_alignment !== undefined).map((v) => v.ratings.text_alignment);
    const [a, b] = [arm('1.0'), arm('2.0')];
    expect(body).toMatchObject({ dimension: 'text_alignment', baseline: { modelVersion: '1.0', n: a.length }, candidate: { modelVersion: '2.0', n: b.length } });
    expect(body.multipleTesting.tests).toBe(2);
    expect(body.metrics.map((m: { metric: string }) => m.metric)).toEqual(['rating', 'satisfaction']);
    const estimateOf = async (ratings: number[], version: string) => clusteredMean(
      ratings.length, ratings.reduce((x, y) => x + y, 0), ratings.reduce((x, y) => x + y * y, 0),
      clusterAdjustment(DIMENSION_PAIR, [await dimensionSumsOf(version, 'text_alignment')]),
    );
    const [ea, eb] = [await estimateOf(a, '1.0'), await estimateOf(b, '2.0')];
    const se = Math.hypot(ea.standardError, eb.standardError);
    const sequential = alwaysValidTest(eb.estimate - ea.estimate, se, Math.min(ea.df, eb.df), a.length + b.length, 5000);
    const rating = body.metrics[0];
    expect(rating.difference.value).toBeCloseTo(eb.estimate - ea.estimate, 12);
    expect(rating.difference.low).toBeCloseTo(sequential.lower, 9);
    expect(rating.difference.high).toBeCloseTo(sequential.upper, 9);
    expect(rating.pValue).toBeCloseTo(sequential.pValue, 9);
    expect(body.metrics[1].difference.value).toBeCloseTo((eb.estimate - ea.estimate) / 2, 12);
    expect(body.metrics[1].pValue).toBeCloseTo(rating.pValue, 9);
    // A point higher on a 1–5 scale over 20 videos a side: significant in the pre-planned (fixed-horizon) test.
    const planned = await metrics(`compare?baseline=1.0&candidate=2.0&${WINDOW}&dimension=text_alignment&fixedHorizon=true`);
    const fixed = fixedHorizonTest(eb.estimate - ea.estimate, se, Math.min(ea.df, eb.df));
    expect(planned.body.metrics[0].pValue).toBeCloseTo(fixed.pValue, 9);
    expect(planned.body.metrics[0].significant).toBe(true);
    const same = await metrics(`compare?baseline=1.0&candidate=2.0&${WINDOW}&dimension=visual_quality&fixedHorizon=true`);
    expect(same.body.metrics[0].significant).toBe(false); // the same distribution in both versions
    const none = await metrics(`compare?baseline=1.0&candidate=2.0&${WINDOW}&dimension=motion_quality`);
    expect(none.body).toMatchObject({ baseline: { n: 0 }, candidate: { n: 0 }, multipleTesting: { tests: 0 } });

    const videos = await metrics(`videos?${WINDOW}&dimension=text_alignment&limit=3&minViewers=3`);
    expect(videos.status).toBe(200);
    expect(videos.body).toMatchObject({ source: 'dimension_video_aggregates', dimension: 'text_alignment' });
    const per = new Map<string, number[]>();
    for (const v of data.views) if (v.version !== null && v.ratings.text_alignment !== undefined) per.set(v.videoId, [...(per.get(v.videoId) ?? []), v.ratings.text_alignment]);
    const all = [...per.values()].flat();
    const prior = all.reduce((x, y) => x + y, 0) / all.length;
    const ranked = [...per.entries()].filter(([, r]) => r.length >= 3)
      .map(([videoId, r]) => ({ videoId, n: r.length, shrunk: (r.reduce((x, y) => x + y, 0) + prior * 5) / (r.length + 5) }))
      .sort((x, y) => y.shrunk - x.shrunk || x.videoId.localeCompare(y.videoId));
    expect(videos.body.priorMean).toBeCloseTo(prior, 9);
    expect(videos.body.best.map((v: { videoId: string; n: number }) => [v.videoId, v.n])).toEqual(ranked.slice(0, 3).map((v) => [v.videoId, v.n]));
    expect(videos.body.worst.map((v: { videoId: string }) => v.videoId)).toEqual(ranked.slice(-3).reverse().map((v) => v.videoId));
    expect(videos.body.best[0].shrunk).toBeCloseTo(ranked[0].shrunk, 9);
  });

  it('rejects bad query parameters with 400 naming the parameter', async () => {
    const cases: [string, string][] = [
      ['satisfaction?granularity=week', 'granularity'],
      ['satisfaction?groupBy=modelVersion,colour', 'groupBy'],
      ['satisfaction?from=yesterday', 'from'],
      ['satisfaction?to=2026-02-30', 'to'],
      ['satisfaction?from=2026-11-12&to=2026-11-10', 'from'],
      ['satisfaction?granularity=hour&from=2026-01-01&to=2026-11-01', 'from'],
      ['satisfaction?limit=3', 'limit'],
      ['compare?candidate=2.0', 'baseline'],
      ['compare?baseline=1.0', 'candidate'],
      ['compare?baseline=1.0&candidate=1.0', 'candidate'],
      ['compare?baseline=seedance:1.0&candidate=1.0', 'candidate'],
      ['compare?baseline=:1.0&candidate=2.0', 'baseline'],
      ['compare?baseline=1.0&candidate=2.0&fixedHorizon=maybe', 'fixedHorizon'],
      ['compare?baseline=1.0&candidate=2.0&expectedSplit=50', 'expectedSplit'],
      ['compare?baseline=1.0&candidate=2.0&expectedSplit=0:1', 'expectedSplit'],
      ['compare?baseline=1.0&candidate=2.0&sequentialTuning=5', 'sequentialTuning'],
      ['videos?limit=ten', 'limit'],
      ['videos?limit=1000', 'limit'],
      ['videos?minViewers=0', 'minViewers'],
      ['satisfaction?dimension=aesthetics', 'dimension'],
      ['compare?baseline=1.0&candidate=2.0&dimension=overall', 'dimension'],
      ['videos?dimension=Visual', 'dimension'],
      ['satisfaction?dimension=text_alignment&dimension=visual_quality', 'dimension'],
    ];
    for (const [path, field] of cases) {
      const response = await metrics(path);
      expect({ path, status: response.status, code: response.body?.error?.code, field: response.body?.error?.details?.[0]?.field })
        .toEqual({ path, status: 400, code: 'VALIDATION_FAILED', field });
      expect(response.body.error.message).toContain(field);
    }
  });

  it('needs a secret key: 403 for an ingest key, 401 without one', async () => {
    for (const path of ['satisfaction', 'compare?baseline=1.0&candidate=2.0', 'videos', 'dimensions']) {
      await expect(metrics(path, project.ingestKey)).resolves.toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
      await expect(get(`${api.url}/v1/metrics/${path}`, null)).resolves.toMatchObject({ status: 401 });
    }
  });

  it("never shows another project's data", async () => {
    const other = await ctx.createProject(4, 'other');
    const response = await metrics(`satisfaction?${WINDOW}`, other.secretKey);
    expect(response).toMatchObject({ status: 200, body: { series: [] } });
  });
});
