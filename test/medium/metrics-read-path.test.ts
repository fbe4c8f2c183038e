import { FeedbackEventMessage, GenerationMessage } from '@flywheel/contracts';
import {
  CellSums, DeletionsRepository, IngestRepository, METRIC_DIMENSIONS, MetricsRepository, ROLLUP_COLUMNS, RollupTotals, VersionSums,
} from '@flywheel/database';
import { QuantilesSource, SignalPipeline, deleteUserData, rebuildProject } from '@flywheel/ingest';
import { CURRENT_POLICY, DEFAULT_WATCH_QUANTILES, POLICY_V1, WatchQuantiles, shrunkMean } from '@flywheel/satisfaction';
import {
  Adjuster, SatisfactionMetricsService, adjusterFor, compareTotals, metricSet,
} from '../../apps/api/src/metrics/satisfaction-metrics.service';
import { SatisfactionQueryDto } from '../../apps/api/src/metrics/metrics-query.dto';
import { differences, worldGenerations } from '../support/metrics-world';
import { TestContext, prng } from '../support/harness';

/**
 * Medium tier: the dashboard's read path (one row per answer point with its cells, the all-time sums cached under a
 * change marker, the narrow video ranking) gives the answers of the straightforward computation it replaced — rollups
 * grouped per (bucket, cell) and summed into points here, all-time sums read afresh, videos ranked from every row —
 * on data written by the real ingest path, and keeps giving them after ingest, a deletion and a rebuild change it.
 */
describe('metrics read path (medium)', () => {
  const ctx = new TestContext('medium-metrics-read');
  let ingest: IngestRepository;
  let metrics: MetricsRepository;
  let service: SatisfactionMetricsService;
  const quantiles: QuantilesSource = {
    forProjects: async (ids) => new Map<string, WatchQuantiles>(ids.map((id) => [id, DEFAULT_WATCH_QUANTILES])),
  };
  const pipeline = new SignalPipeline(CURRENT_POLICY, quantiles);
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  const T0 = Date.UTC(2026, 10, 2);
  const iso = (ms: number) => new Date(ms).toISOString();
  const TYPES: FeedbackEventMessage['type'][] = ['impression', 'play', 'progress', 'complete', 'like', 'unlike', 'share', 'rate', 'discard', 'dislike', 'regenerate', 'export'];

  beforeAll(async () => {
    await ctx.setUp();
    ingest = ctx.db.make(IngestRepository);
    metrics = ctx.db.make(MetricsRepository);
    service = new SatisfactionMetricsService(metrics);
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  /** 2 models × 3 versions, 3 categories and none, 2 segments and none; 60 users; events over 5 days, any hour. */
  function world(projectId: string, seed: number, events: number, users = 60, tag = '') {
    const rand = prng(seed);
    const generations = worldGenerations(projectId, rand, T0);
    const list: FeedbackEventMessage[] = [];
    for (let i = 0; i < events; i++) {
      const type = TYPES[Math.floor(rand() * TYPES.length)];
      // v90–v94 never get a generation: their rows stay unattributed.
      const videoId = `v${Math.floor(rand() * 95)}`;
      const at = iso(T0 + Math.floor(rand() * 5 * DAY));
      list.push({
        v: 1, projectId, eventId: `${tag}e${i}`, type, videoId, userHash: `user-${Math.floor(rand() * users)}`, occurredAt: at, receivedAt: at,
        ...(type === 'rate' ? { rating: 1 + Math.floor(rand() * 5) } : {}),
        ...(type === 'progress' ? { watchMs: Math.floor(rand() * 6000), durationMs: 5000 } : {}),
      });
    }
    return { generations, events: list };
  }

  async function ingestAll(generations: GenerationMessage[], events: FeedbackEventMessage[]): Promise<void> {
    if (generations.length) await ingest.transaction((tx) => pipeline.ingestGenerations(tx, generations));
    for (let i = 0; i < events.length; i += 250) await ingest.transaction((tx) => pipeline.ingestEvents(tx, events.slice(i, i + 250)));
  }

  // ---- the computation the read path replaced ----

  const cellKey = (model: string, modelVersion: string, category: string, segment: string) => [model, modelVersion, category, segment].join('\u0000');

  /** Rollups grouped per (bucket, cell) by MetricsRepository.aggregate, summed into points here; sums read afresh. */
  async function slowSatisfaction(projectId: string, query: SatisfactionQueryDto) {
    const granularity = query.granularity ?? 'day';
    const requested = new Set(query.groupBy ?? []);
    if (requested.has('modelVersion')) requested.add('model');
    const groupBy = METRIC_DIMENSIONS.filter((d) => requested.has(d));
    const filters = Object.fromEntries((['model', 'modelVersion', 'category', 'segment'] as const).filter((k) => query[k]?.length).map((k) => [k, query[k]]));
    const window = { from: new Date(query.from!), to: new Date(query.to!) };
    const groups = await metrics.aggregate(projectId, { ...window, ...filters }, granularity, METRIC_DIMENSIONS);
    const adjuster = adjusterOf(await metrics.versionSums(projectId, null));
    const points = new Map<string, { bucket: Date; dims: Record<string, string>; totals: RollupTotals; cells: string[] }>();
    for (const g of groups) {
      const dims = Object.fromEntries(groupBy.map((d) => [d, g.dims[d] ?? '']));
      const id = `${g.bucket!.toISOString()}|${JSON.stringify(dims)}`;
      let point = points.get(id);
      if (!point) points.set(id, (point = { bucket: g.bucket!, dims, totals: zero(), cells: [] }));
      for (const c of Object.keys(g.totals) as (keyof RollupTotals)[]) point.totals[c] += g.totals[c];
      if (g.totals.viewers > 0) point.cells.push(cellKey(g.dims.model!, g.dims.modelVersion!, g.dims.category!, g.dims.segment!));
    }
    return [...points.values()].filter((p) => p.totals.viewers > 0).map((p) => ({
      bucket: p.bucket.toISOString(),
      group: Object.fromEntries(groupBy.map((d) => [d, p.dims[d] || null])),
      n: p.totals.viewers,
      metrics: metricSet(p.totals, adjuster(p.cells)),
    }));
  }

  function zero(): RollupTotals {
    return Object.fromEntries(ROLLUP_COLUMNS.map((c) => [c, 0])) as RollupTotals;
  }

  function adjusterOf(sums: VersionSums[]): (cells: string[]) => Adjuster {
    const cells = new Map<string, { version: VersionSums; cell: CellSums }>();
    for (const v of sums) for (const c of v.cells) cells.set(cellKey(v.model, v.modelVersion, c.category, c.segment), { version: v, cell: c });
    return (ids) => {
      const found = ids.map((id) => cells.get(id)).filter((x) => x !== undefined);
      return adjusterFor([...new Set(found.map((x) => x.version))], found.map((x) => x.cell));
    };
  }

  /** Every video row of the window read here and ranked in this process. */
  async function slowVideos(projectId: string, from: string, to: string, limit: number, minViewers: number) {
    const rows: { video_id: string; n: number; sum: number }[] = await ctx.db.query(
      `SELECT video_id, viewers AS n, sat_sum AS sum FROM video_aggregates
        WHERE project_id = $1 AND created_at >= $2 AND created_at < $3 AND viewers > 0`,
      [projectId, from, to],
    );
    const n = rows.reduce((t, r) => t + r.n, 0);
    const priorMean = n ? rows.reduce((t, r) => t + r.sum, 0) / n : 0;
    const k = POLICY_V1.shrinkage.priorStrength;
    const ranked = rows.filter((r) => r.n >= minViewers).map((r) => ({ ...r, shrunk: shrunkMean(r.sum, r.n, priorMean, k) }));
    const order = (sign: number) => [...ranked].sort((a, b) => sign * (b.shrunk - a.shrunk) || (a.video_id < b.video_id ? -1 : 1)).slice(0, limit).map((r) => r.video_id);
    return { priorMean, best: order(1), worst: order(-1) };
  }


  const QUERIES: SatisfactionQueryDto[] = [
    // Ragged ends on both sides of whole days, per version; per category (not a prefix of the four); per
    // segment and version; everything pooled; every dimension.
    { from: iso(T0 + 5 * HOUR), to: iso(T0 + 4 * DAY + 7 * HOUR), granularity: 'day', groupBy: ['modelVersion'] },
    { from: iso(T0 + 5 * HOUR), to: iso(T0 + 4 * DAY + 7 * HOUR), granularity: 'day', groupBy: ['category'] },
    { from: iso(T0), to: iso(T0 + 5 * DAY), granularity: 'day', groupBy: ['segment', 'modelVersion'] },
    { from: iso(T0 + 13 * HOUR), to: iso(T0 + 3 * DAY), granularity: 'day', groupBy: [] },
    { from: iso(T0), to: iso(T0 + 5 * DAY), granularity: 'day', groupBy: ['model', 'modelVersion', 'category', 'segment'] },
    // Hours; a window inside one day (no whole day); filters, the unknown included.
    { from: iso(T0 + DAY), to: iso(T0 + 2 * DAY + 6 * HOUR), granularity: 'hour', groupBy: ['modelVersion'] },
    { from: iso(T0 + DAY + 3 * HOUR), to: iso(T0 + DAY + 20 * HOUR), granularity: 'day', groupBy: ['category'] },
    { from: iso(T0 + 2 * HOUR), to: iso(T0 + 5 * DAY), granularity: 'day', groupBy: ['segment'], category: ['pets', '(unknown)'], model: ['seedance'] },
  ];

  async function expectSameAnswers(projectId: string): Promise<void> {
    for (const query of QUERIES) {
      const fast = await service.satisfaction(projectId, query);
      const slow = await slowSatisfaction(projectId, query);
      expect(slow.length).toBeGreaterThan(0);
      expect(differences(fast.series, slow, JSON.stringify(query))).toEqual([]);
    }
    const window = { from: iso(T0), to: iso(T0 + 5 * DAY) };
    for (const [baseline, candidate] of [['1.0', '3.0'], ['seedance:2.0', 'kling:1.0']]) {
      const fast = await service.compare(projectId, { ...window, baseline, candidate });
      const adjuster = adjusterOf(await metrics.versionSums(projectId, null));
      const groups = await metrics.aggregate(projectId, { from: new Date(window.from), to: new Date(window.to), modelVersion: [baseline.split(':').pop()!, candidate.split(':').pop()!] }, null, METRIC_DIMENSIONS);
      const side = (arm: string) => {
        const [model, version] = arm.includes(':') ? arm.split(':') : [null, arm];
        const mine = groups.filter((g) => g.dims.modelVersion === version && (model === null || g.dims.model === model));
        const totals = zero();
        for (const g of mine) for (const c of Object.keys(g.totals) as (keyof RollupTotals)[]) totals[c] += g.totals[c];
        return { totals, adjust: adjuster(mine.filter((g) => g.totals.viewers > 0).map((g) => cellKey(g.dims.model!, g.dims.modelVersion!, g.dims.category!, g.dims.segment!))) };
      };
      const a = side(baseline);
      const b = side(candidate);
      const slow = compareTotals(a.totals, b.totals, { baseline: a.adjust, candidate: b.adjust });
      expect(differences(fast.metrics, slow.metrics, `${baseline} vs ${candidate}`)).toEqual([]);
    }
    for (const [limit, minViewers] of [[5, 1], [3, 4]]) {
      const fast = await service.videos(projectId, { ...window, limit, minViewers });
      const slow = await slowVideos(projectId, window.from, window.to, limit, minViewers);
      expect(fast.best.map((v) => v.videoId)).toEqual(slow.best);
      expect(fast.worst.map((v) => v.videoId)).toEqual(slow.worst);
      expect(fast.priorMean).toBeCloseTo(slow.priorMean, 12);
    }
  }

  it('answers the dashboard, compare and videos queries as the computation it replaced, through ingest, a deletion and a rebuild', async () => {
    const projectId = (await ctx.createProject(2, 'read-path')).projectId;
    const w = world(projectId, 11, 3000);
    await ingestAll(w.generations, w.events);
    await expectSameAnswers(projectId);

    // The all-time sums are kept while nothing changes…
    const kept = await metrics.allVersionSums(projectId);
    await expect(metrics.allVersionSums(projectId)).resolves.toBe(kept);
    const before = await service.satisfaction(projectId, QUERIES[0]);

    // …and every change reaches them: more events (new users and rows on the same videos), …
    await ingestAll([], world(projectId, 12, 800, 90, 'more-').events);
    expect(await metrics.allVersionSums(projectId)).not.toBe(kept);
    const after = await service.satisfaction(projectId, QUERIES[0]);
    expect(differences(after.series, before.series)).not.toEqual([]);
    await expectSameAnswers(projectId);

    // …a user's deletion, …
    const deletions = ctx.db.make(DeletionsRepository);
    const job = await deletions.requestUser(projectId, 'user-7', 'key:test');
    await deleteUserData({ ingest, pipeline }, projectId, 'user-7', job.id);
    await expectSameAnswers(projectId);

    // …and a rebuild.
    await service.satisfaction(projectId, QUERIES[0]);
    await rebuildProject(ingest, quantiles, CURRENT_POLICY, projectId);
    await expectSameAnswers(projectId);
  }, 120000);

  it('keeps each project to its own sums', async () => {
    const [one, two] = [(await ctx.createProject(2, 'sums-one')).projectId, (await ctx.createProject(2, 'sums-two')).projectId];
    await ingestAll(world(one, 21, 600).generations, world(one, 21, 600).events);
    await ingestAll(world(two, 22, 900).generations, world(two, 22, 900).events);
    const [a, b] = [await metrics.allVersionSums(one), await metrics.allVersionSums(two)];
    const viewers = (sums: VersionSums[]) => sums.reduce((t, v) => t + v.totals.viewers, 0);
    await expect(ctx.count('SELECT sum(viewers) FROM satisfaction_rollups_daily WHERE project_id = $1', [one])).resolves.toBe(viewers(a));
    await expect(ctx.count('SELECT sum(viewers) FROM satisfaction_rollups_daily WHERE project_id = $1', [two])).resolves.toBe(viewers(b));
    await expectSameAnswers(one);
    await expectSameAnswers(two);
  }, 120000);
});
