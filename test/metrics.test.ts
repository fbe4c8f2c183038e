import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { CreatedProject } from '@flywheel/database';
import { ROLLUP_COUNTERS, benjaminiHochberg, proportionDifference } from '@flywheel/satisfaction';
import { AppProcess, ROOT, TestContext, get, post, postAll, waitFor, prng } from './support/harness';

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


interface View { videoId: string; version: string | null; category: string | null; day: string; liked: boolean; played: boolean; completed: boolean }

/**
 * 40 videos of two model versions (2.0 is liked more, disliked less) in two categories; 30 users, about 70% of whom
 * react to each video, across two days. Some likes are taken back with an unlike. A few events are for a video whose
 * generation is never registered. Returns the events and, per (video, user), what the events say.
 */
function fixture() {
  const rnd = prng(20261110);
  const generations = Array.from({ length: 40 }, (_, i) => ({
    videoId: `m${i}`, requestId: `r${Math.floor(i / 4)}`, prompt: `${i % 4 < 2 ? 'a cat' : 'a mountain'} number ${i}`,
    model: 'seedance', modelVersion: i % 2 ? '2.0' : '1.0', category: i % 4 < 2 ? 'pets' : 'travel',
    segment: i % 3 ? 'pro' : 'casual', durationMs: 8000, features: [i, 1, 0, 0],
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
      const view: View = { videoId: video.videoId, version: video.version, category: video.category, day: new Date(t0).toISOString().slice(0, 10), liked: false, played: false, completed: false };
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

  it('answers rates with Wilson intervals and mean satisfaction per day and model version, as the raw data says', async () => {
    const response = await metrics(`satisfaction?${WINDOW}&granularity=day&groupBy=modelVersion`);
    expect(response.status).toBe(200);
    const { body } = response;
    expect(body).toMatchObject({ from: '2026-11-10T00:00:00.000Z', to: '2026-11-12T00:00:00.000Z', granularity: 'day', groupBy: ['model', 'modelVersion'] });
    const scores = await rawScores();
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
      const like = wilson(views.filter((v) => v.liked).length, views.length);
      expect(point.metrics.like.n).toBe(views.length);
      expect(point.metrics.like.value).toBeCloseTo(like.value, 12);
      expect(point.metrics.like.low).toBeCloseTo(like.low, 12);
      expect(point.metrics.like.high).toBeCloseTo(like.high, 12);
      const played = views.filter((v) => v.played);
      const completion = wilson(played.filter((v) => v.completed).length, played.length);
      expect(point.metrics.completion).toMatchObject({ n: played.length });
      expect(point.metrics.completion.value).toBeCloseTo(completion.value, 12);
      expect(point.metrics.completion.low).toBeCloseTo(completion.low, 12);

      const raw = scores.find((s) => `${s.day}|${s.version}` === id)!;
      expect(raw.n).toBe(views.length);
      const satisfaction = meanInterval(raw.n, raw.sum, raw.sumsq);
      expect(point.metrics.satisfaction.n).toBe(raw.n);
      expect(point.metrics.satisfaction.value).toBeCloseTo(satisfaction.value, 9);
      expect(point.metrics.satisfaction.low).toBeCloseTo(satisfaction.low, 9);
      expect(point.metrics.satisfaction.high).toBeCloseTo(satisfaction.high, 9);
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
    expect(body.baseline).toEqual({ modelVersion: '1.0', n: a.length });
    expect(body.candidate).toEqual({ modelVersion: '2.0', n: b.length });
    expect(body.multipleTesting).toEqual({ method: 'benjamini-hochberg', q: 0.05, tests: 11 });
    expect(body.metrics.map((m: { metric: string }) => m.metric)).toEqual([
      'like', 'favorite', 'share', 'download', 'export', 'completion', 'regenerate', 'discard', 'dislike', 'watchRatio', 'satisfaction',
    ]);
    const like = body.metrics.find((m: { metric: string }) => m.metric === 'like');
    const likes = (views: View[]) => ({ successes: views.filter((v) => v.liked).length, n: views.length });
    const expected = proportionDifference(likes(a), likes(b));
    expect(like.difference.value).toBeCloseTo(likes(b).successes / b.length - likes(a).successes / a.length, 12);
    expect(like.difference.low).toBeCloseTo(expected.lower, 12);
    expect(like.difference.high).toBeCloseTo(expected.upper, 12);
    expect(like.pValue).toBeCloseTo(expected.pValue, 12);
    expect(like.lift.value).toBeCloseTo((likes(b).successes / b.length) / (likes(a).successes / a.length) - 1, 12);
    expect(like.significant).toBe(true); // 20% against 34%, n ≈ 420 each

    const raw = await rawScores(`AND g.model_version IS NOT NULL`);
    const total = (version: string) => raw.filter((r) => r.version === version).reduce((t, r) => ({ n: t.n + r.n, sum: t.sum + r.sum }), { n: 0, sum: 0 });
    const satisfaction = body.metrics.find((m: { metric: string }) => m.metric === 'satisfaction');
    expect(satisfaction.baseline.value).toBeCloseTo(total('1.0').sum / total('1.0').n, 9);
    expect(satisfaction.difference.value).toBeCloseTo(total('2.0').sum / total('2.0').n - total('1.0').sum / total('1.0').n, 9);
    expect(satisfaction.difference.low).toBeLessThan(satisfaction.difference.value);

    const pValues = body.metrics.map((m: { pValue: number }) => m.pValue);
    expect(body.metrics.map((m: { significant: boolean }) => m.significant)).toEqual(benjaminiHochberg(pValues, 0.05));
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
    const prior = rows.reduce((s, r) => s + r.sum, 0) / rows.reduce((s, r) => s + r.n, 0);
    const ranked = rows.filter((r) => r.version !== null && r.n >= 5)
      .map((r) => ({ videoId: r.video_id, modelVersion: r.version, prompt: r.prompt, n: r.n, mean: r.sum / r.n, shrunk: (r.sum + prior * 5) / (r.n + 5) }))
      .sort((x, y) => y.shrunk - x.shrunk || x.videoId.localeCompare(y.videoId));
    expect(response.body.priorMean).toBeCloseTo(prior, 9);
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
    after.body.metrics.forEach((m: { difference: { value: number } }, i: number) => expect(m.difference.value).toBeCloseTo(before.body.metrics[i].difference.value, 9));

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
      ['videos?limit=ten', 'limit'],
      ['videos?limit=1000', 'limit'],
      ['videos?minViewers=0', 'minViewers'],
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
