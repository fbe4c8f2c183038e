import { FeedbackEventMessage, GenerationMessage } from '@flywheel/contracts';
import { DeletionsRepository, DimensionMetricsRepository, IngestRepository, MetricsRepository } from '@flywheel/database';
import { QuantilesSource, SignalPipeline, deleteUserData, rebuildProject } from '@flywheel/ingest';
import { CURRENT_POLICY, DEFAULT_WATCH_QUANTILES, POLICY_V1, WatchQuantiles, shrunkMean } from '@flywheel/satisfaction';
import { SatisfactionMetricsService } from '../../apps/api/src/metrics/satisfaction-metrics.service';
import { SatisfactionQueryDto } from '../../apps/api/src/metrics/metrics-query.dto';
import { differences, worldGenerations } from '../support/metrics-world';
import { TestContext, prng } from '../support/harness';

/**
 * Medium tier: the per-rating-dimension read path keeps each (project, dimension)'s all-time sums under the change
 * marker of that dimension's cluster-moment rows, as the overall path keeps the project's, and ranks videos with the
 * overall ranking's code. Its answers — dimension dashboard, compare and videos — equal a fresh computation (new
 * repositories, nothing kept; videos ranked here from the signal rows' ratings) on data written by the real ingest
 * path, and keep equalling it after new ratings of one dimension, of all, a user's deletion and a rebuild.
 */
describe('dimension metrics read path (medium)', () => {
  const ctx = new TestContext('medium-dimension-read');
  let ingest: IngestRepository;
  let dimensions: DimensionMetricsRepository;
  let service: SatisfactionMetricsService;
  const quantiles: QuantilesSource = {
    forProjects: async (ids) => new Map<string, WatchQuantiles>(ids.map((id) => [id, DEFAULT_WATCH_QUANTILES])),
  };
  const pipeline = new SignalPipeline(CURRENT_POLICY, quantiles);
  const DIMENSIONS = ['visual_quality', 'motion_quality', 'text_alignment'];
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  const T0 = Date.UTC(2026, 10, 2);
  const iso = (ms: number) => new Date(ms).toISOString();

  beforeAll(async () => {
    await ctx.setUp();
    ingest = ctx.db.make(IngestRepository);
    dimensions = ctx.db.make(DimensionMetricsRepository);
    service = new SatisfactionMetricsService(ctx.db.make(MetricsRepository), dimensions);
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  /** 2 models × 3 versions, categories and segments with unknowns; plays and ratings of `rated` dimensions over 5 days. */
  function world(projectId: string, seed: number, events: number, rated: string[], users = 60, tag = '') {
    const rand = prng(seed);
    const generations = worldGenerations(projectId, rand, T0);
    const list: FeedbackEventMessage[] = [];
    for (let i = 0; i < events; i++) {
      // v90–v94 never get a generation: their rows stay unattributed.
      const videoId = `v${Math.floor(rand() * 95)}`;
      const userHash = `user-${Math.floor(rand() * users)}`;
      const at = iso(T0 + Math.floor(rand() * 5 * DAY));
      const kind = rand();
      const base = { v: 1 as const, projectId, eventId: `${tag}e${i}`, videoId, userHash, occurredAt: at, receivedAt: at };
      if (kind < 0.3) list.push({ ...base, type: 'play' });
      else if (kind < 0.4) list.push({ ...base, type: 'rate', rating: 1 + Math.floor(rand() * 5) });
      else list.push({ ...base, type: 'rate', rating: 1 + Math.floor(rand() * 5), dimension: rated[Math.floor(rand() * rated.length)] });
    }
    return { generations, events: list };
  }

  async function ingestAll(generations: GenerationMessage[], events: FeedbackEventMessage[]): Promise<void> {
    if (generations.length) await ingest.transaction((tx) => pipeline.ingestGenerations(tx, generations));
    for (let i = 0; i < events.length; i += 250) await ingest.transaction((tx) => pipeline.ingestEvents(tx, events.slice(i, i + 250)));
  }

  const WINDOW = { from: iso(T0), to: iso(T0 + 5 * DAY) };
  const QUERIES: SatisfactionQueryDto[] = [
    { from: iso(T0 + 5 * HOUR), to: iso(T0 + 4 * DAY + 7 * HOUR), granularity: 'day', groupBy: ['modelVersion'] },
    { from: iso(T0), to: iso(T0 + 5 * DAY), granularity: 'day', groupBy: ['segment', 'category'] },
    { from: iso(T0 + DAY), to: iso(T0 + 2 * DAY + 6 * HOUR), granularity: 'hour', groupBy: [] },
  ];

  /** Every answer of one dimension, through `through`. */
  async function answers(through: SatisfactionMetricsService, projectId: string, dimension: string) {
    const out: unknown[] = [];
    for (const query of QUERIES) out.push(await through.satisfaction(projectId, { ...query, dimension }, DIMENSIONS));
    for (const [baseline, candidate] of [['1.0', '3.0'], ['seedance:2.0', 'kling:1.0']]) {
      out.push(await through.compare(projectId, { ...WINDOW, baseline, candidate, dimension }, DIMENSIONS));
    }
    return out;
  }

  /** The dimension's best and worst videos ranked here from the signal rows' latest ratings of it. */
  async function slowVideos(projectId: string, dimension: string, limit: number, minViewers: number) {
    const rows: { video_id: string; n: number; sum: number }[] = (await ctx.db.query(
      `SELECT s.video_id, count(*)::int AS n, sum((s.dimension_ratings ->> $2)::float8) AS sum
         FROM video_user_signals s JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
        WHERE s.project_id = $1 AND s.dimension_ratings ? $2 AND g.created_at >= $3 AND g.created_at < $4
        GROUP BY 1`,
      [projectId, dimension, WINDOW.from, WINDOW.to],
    )).map((r: { video_id: string; n: number; sum: number }) => ({ ...r, n: Number(r.n), sum: Number(r.sum) }));
    const n = rows.reduce((t, r) => t + r.n, 0);
    const priorMean = n ? rows.reduce((t, r) => t + r.sum, 0) / n : 0;
    const k = POLICY_V1.shrinkage.priorStrength;
    const ranked = rows.filter((r) => r.n >= minViewers).map((r) => ({ ...r, shrunk: shrunkMean(r.sum, r.n, priorMean, k) }));
    const order = (sign: number) => [...ranked].sort((a, b) => sign * (b.shrunk - a.shrunk) || (a.video_id < b.video_id ? -1 : 1)).slice(0, limit).map((r) => r.video_id);
    return { rows: rows.length, priorMean, best: order(1), worst: order(-1) };
  }


  /** Each dimension's answers equal those of repositories that keep nothing; its videos equal the ranking from the signal rows. */
  async function expectFreshAnswers(projectId: string): Promise<void> {
    const fresh = new SatisfactionMetricsService(ctx.db.make(MetricsRepository), ctx.db.make(DimensionMetricsRepository));
    for (const dimension of DIMENSIONS) {
      const kept = await answers(service, projectId, dimension);
      const [series, , , compare] = kept as [{ series: unknown[] }, unknown, unknown, { baseline: { n: number }; candidate: { n: number } }];
      expect(series.series.length).toBeGreaterThan(3);
      expect(Math.min(compare.baseline.n, compare.candidate.n)).toBeGreaterThan(10);
      expect(differences(kept, await answers(fresh, projectId, dimension), dimension)).toEqual([]);
      for (const [limit, minViewers] of [[5, 1], [3, 3]]) {
        const fast = await service.videos(projectId, { ...WINDOW, dimension, limit, minViewers }, DIMENSIONS);
        const slow = await slowVideos(projectId, dimension, limit, minViewers);
        expect(slow.rows).toBeGreaterThan(10);
        expect({ best: fast.best.map((v) => v.videoId), worst: fast.worst.map((v) => v.videoId) }).toEqual({ best: slow.best, worst: slow.worst });
        expect(fast.priorMean).toBeCloseTo(slow.priorMean, 12);
      }
    }
  }

  it('keeps a dimension\'s all-time sums until its ratings change, and answers as a fresh computation through ingest, a deletion and a rebuild', async () => {
    const projectId = (await ctx.createProject(2, 'dimension-read', DIMENSIONS)).projectId;
    const w = world(projectId, 31, 3000, DIMENSIONS);
    await ingestAll(w.generations, w.events);
    await expectFreshAnswers(projectId);

    // Kept while nothing changes, per dimension.
    const kept = Object.fromEntries(await Promise.all(DIMENSIONS.map(async (d) => [d, await dimensions.allVersionSums(projectId, d)] as const)));
    for (const d of DIMENSIONS) await expect(dimensions.allVersionSums(projectId, d)).resolves.toBe(kept[d]);
    const before = await answers(service, projectId, 'visual_quality');

    // New ratings of visual_quality only (and overall ones): its sums are read again, the others' stay kept (unchanged).
    await ingestAll([], world(projectId, 32, 600, ['visual_quality'], 90, 'vq-').events);
    expect(await dimensions.allVersionSums(projectId, 'visual_quality')).not.toBe(kept.visual_quality);
    await expect(dimensions.allVersionSums(projectId, 'text_alignment')).resolves.toBe(kept.text_alignment);
    expect(differences(await answers(service, projectId, 'visual_quality'), before)).not.toEqual([]);
    await expectFreshAnswers(projectId);

    // New ratings of every dimension, a user's deletion, a rebuild.
    await ingestAll([], world(projectId, 33, 800, DIMENSIONS, 90, 'all-').events);
    await expectFreshAnswers(projectId);
    const deletions = ctx.db.make(DeletionsRepository);
    const job = await deletions.requestUser(projectId, 'user-7', 'key:test');
    await deleteUserData({ ingest, pipeline }, projectId, 'user-7', job.id);
    await expectFreshAnswers(projectId);
    await rebuildProject(ingest, quantiles, CURRENT_POLICY, projectId);
    await expectFreshAnswers(projectId);
  }, 180000);

  it('keeps each project and dimension to its own sums', async () => {
    const [one, two] = [(await ctx.createProject(2, 'dim-sums-one', DIMENSIONS)).projectId, (await ctx.createProject(2, 'dim-sums-two', DIMENSIONS)).projectId];
    await ingestAll(world(one, 41, 600, DIMENSIONS).generations, world(one, 41, 600, DIMENSIONS).events);
    await ingestAll(world(two, 42, 900, DIMENSIONS).generations, world(two, 42, 900, DIMENSIONS).events);
    for (const projectId of [one, two]) {
      for (const d of DIMENSIONS) {
        const sums = await dimensions.allVersionSums(projectId, d);
        const rated = sums.reduce((t, v) => t + v.totals.rated, 0);
        await expect(ctx.count('SELECT sum(rated) FROM dimension_rollups_daily WHERE project_id = $1 AND dimension = $2', [projectId, d])).resolves.toBe(rated);
      }
      await expectFreshAnswers(projectId);
    }
  }, 180000);
});
