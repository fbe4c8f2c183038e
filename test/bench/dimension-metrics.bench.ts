/*
 * Per-rating-dimension metrics benchmark:
 * `npm run bench:dimension-metrics -- [--signals 3000000] [--rated-share 0.1] [--days 60] [--runs 30] [--raw-runs 3] [--batch-rows 500] [--keep]`.
 *
 * Builds a scratch database flywheel_bench_dims_<random> (dropped unless --keep) and seeds, in SQL, 8 model versions ×
 * 6 categories × 4 segments of generations (one video per 30 viewers) and `--signals` (video, user) signal rows over
 * `--days` days, each rating each of the three default dimensions with probability `--rated-share` (whole stars
 * around a per-video quality). The per-dimension tables are then filled from those rows by the migration that
 * created them (DimensionRollups1764003400000, its backfill: the same sums the worker keeps), with the indexes later
 * migrations add to them (DimensionRollupsVersionIndex1764004200000).
 *
 * Timed, through SatisfactionMetricsService over the repositories on a pool of 2 (the code behind the endpoints,
 * without HTTP), `--runs` times after 3 warm-ups, dimension text_alignment:
 *   - the dashboard query: 30 days, granularity=day, groupBy=modelVersion;  - compare 1.0 vs 1.7 over 30 days;
 *   - the best/worst videos by the dimension.
 * Baseline, same run — the option of serving dimensions without new tables: the same dashboard sums read at query
 * time from the signal rows' dimension_ratings (joined to generations, grouped per day × version; no cluster terms, so
 * a lower bound of that option's cost), `--raw-runs` times; its values must equal the answer's (checked).
 * Ingest cost: one batch of `--batch-rows` signal rows (of the seeded videos and users, fresh ratings) folded into
 * derived deltas; the overall writes (applyRollupDeltas) and the extra per-dimension statement (applyDimensionDeltas)
 * are timed on the seeded tables in a transaction that is rolled back, `--runs` times each.
 *
 * Last line JSON: {"signals", "ratedRows", "p50Ms", "p95Ms", "compareP95Ms", "videosP95Ms", "rawP95Ms", "speedup",
 * "batchRows", "batchRatedRows", "overallWritesMs", "dimensionWritesMs", "dimensionTableRows"}.
 */
import { randomBytes } from 'node:crypto';
import { FlywheelConfig, loadConfig } from '@flywheel/config';
import {
  DimensionMetricsRepository, IngestTransaction, MetricsRepository, ProjectsRepository, createDataSource, createProjectWithKeys,
  dropDatabase, migrate,
} from '@flywheel/database';
import { RollupAccumulator } from '@flywheel/ingest';
import { DIMENSION_COUNTERS, DIMENSION_MOMENT_COLUMNS, MOMENT_COLUMNS, ROLLUP_COUNTERS } from '@flywheel/satisfaction';
import { SatisfactionMetricsService } from '../../apps/api/src/metrics/satisfaction-metrics.service';
import { DimensionRollups1764003400000 } from '../../migrations/1764003400000-dimension-rollups';
import { DimensionRollupsVersionIndex1764004200000 } from '../../migrations/1764004200000-dimension-rollups-version-index';
import { percentile, sampleRuns, timed } from './timing';

interface Args { signals: number; ratedShare: number; days: number; runs: number; rawRuns: number; batchRows: number; keep: boolean }

function parseArgs(argv: string[]): Args {
  const value = (name: string, fallback: number): number => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const parsed = Number(argv[i + 1]);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} needs a positive number`);
    return parsed;
  };
  return {
    signals: Math.round(value('signals', 3_000_000)), ratedShare: Math.min(1, value('rated-share', 0.1)), days: Math.round(value('days', 60)),
    runs: Math.round(value('runs', 30)), rawRuns: Math.round(value('raw-runs', 3)), batchRows: Math.round(value('batch-rows', 500)), keep: argv.includes('--keep'),
  };
}

const DIMENSIONS = ['visual_quality', 'motion_quality', 'text_alignment'];
const DIMENSION = 'text_alignment';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;


async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config: FlywheelConfig = loadConfig();
  const database = { ...config.database, name: `flywheel_bench_dims_${randomBytes(3).toString('hex')}` };
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`dimension metrics benchmark: ${args.signals.toLocaleString('en')} signal rows, rated share ${args.ratedShare} per dimension, ${args.days} days in ${database.name}`);
  await migrate(database);
  const db = createDataSource(database, { poolSize: 2 });
  await db.initialize();
  try {
    const project = await createProjectWithKeys(new ProjectsRepository(db), 'bench', 4);
    const projectId = project.projectId;
    const end = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const start = new Date(end - args.days * DAY_MS).toISOString();
    const videos = Math.max(192, Math.round(args.signals / 30));
    const users = Math.max(1000, Math.round(args.signals / 6));
    await db.query(`SET synchronous_commit = off`);
    await db.query(`SELECT setseed(0.42)`);
    let [, ms] = await timed(() => db.query(
      `INSERT INTO generations (project_id, video_id, request_id, prompt, prompt_norm, model, model_version, category, segment,
                                duration_ms, features, created_at, received_at)
       SELECT $1, 'v' || i, 'r' || (i / 4), 'prompt ' || (i / 4), 'prompt ' || (i / 4), 'seedance', '1.' || (i % 8),
              (ARRAY['pets','travel','food','sports','fashion','music'])[1 + (i / 8) % 6],
              (ARRAY['casual','pro','teen','business'])[1 + (i / 48) % 4],
              8000, ARRAY[random(), random(), random(), random()]::real[],
              $2::timestamptz + floor(i::float8 / $3 * $4) * interval '1 second', $2::timestamptz
         FROM generate_series(0, $3 - 1) AS i`,
      [projectId, start, videos, args.days * 86400],
    ));
    out(`  seed generations ${(ms / 1000).toFixed(1).padStart(7)} s  ${videos.toLocaleString('en')} videos`);
    const star = (shift: string) => `CASE WHEN random() < $5 THEN least(5, greatest(1, round(3 + q + ${shift} + 1.6 * (random() - 0.5)))) END`;
    [, ms] = await timed(() => db.query(
      `INSERT INTO video_user_signals (project_id, video_id, user_hash, impressed, played, dimension_ratings, event_count,
                                       first_event_at, last_event_at, satisfaction, policy_id, rollup_hour, rollup_attributed)
       SELECT $1, 'v' || video, 'h' || usr, true, random() < 0.75,
              jsonb_strip_nulls(jsonb_build_object('visual_quality', ${star('0')}, 'motion_quality', ${star('-0.2')}, 'text_alignment', ${star('0.1 * vi')})),
              1, t0, t0, (random() - 0.5)::real, 'v2', date_trunc('hour', t0), true
         FROM (SELECT video, ((j / ${videos})::bigint * 7919 + video * 31) % $3 AS usr, video % 8 AS vi, (video % 5) / 2.0 - 1 AS q,
                      $4::timestamptz + floor(random() * ${args.days * 86400}) * interval '1 second' AS t0
                 FROM (SELECT j, j % ${videos} AS video FROM generate_series(0, $2 - 1) AS j) AS jj) AS s
       ON CONFLICT DO NOTHING`,
      [projectId, args.signals, users, start, args.ratedShare],
    ));
    const [{ n: signals, rated }] = await db.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE dimension_ratings ? 'text_alignment')::int AS rated FROM video_user_signals WHERE project_id = $1`, [projectId]);
    out(`  seed signal rows ${(ms / 1000).toFixed(1).padStart(7)} s  ${signals.toLocaleString('en')} rows, ${rated.toLocaleString('en')} rated ${DIMENSION}`);
    // The per-dimension tables from those rows: the migration's own backfill (drop its empty tables, run it again), and
    // the later migration's indexes on them.
    [, ms] = await timed(async () => {
      const runner = db.createQueryRunner();
      try {
        await new DimensionRollups1764003400000().down(runner);
        await new DimensionRollups1764003400000().up(runner);
        await new DimensionRollupsVersionIndex1764004200000().up(runner);
      } finally {
        await runner.release();
      }
      await db.query('VACUUM ANALYZE');
    });
    const [{ rows: dimensionTableRows }] = await db.query(
      `SELECT ((SELECT count(*) FROM dimension_rollups) + (SELECT count(*) FROM dimension_rollups_daily) + (SELECT count(*) FROM dimension_video_aggregates)
             + (SELECT count(*) FROM dimension_user_aggregates) + (SELECT count(*) FROM dimension_cluster_moments))::int AS rows`);
    out(`  seed dimension tables ${(ms / 1000).toFixed(1).padStart(7)} s  ${dimensionTableRows.toLocaleString('en')} rows (5 tables, 3 dimensions)`);

    const service = new SatisfactionMetricsService(new MetricsRepository(db), new DimensionMetricsRepository(db));
    const window = { from: new Date(end - 30 * DAY_MS).toISOString(), to: new Date(end).toISOString() };
    const dashboard = () => service.satisfaction(projectId, { ...window, granularity: 'day', groupBy: ['modelVersion'], dimension: DIMENSION }, DIMENSIONS);
    const compare = () => service.compare(projectId, { ...window, baseline: '1.0', candidate: '1.7', dimension: DIMENSION }, DIMENSIONS);
    const ranking = () => service.videos(projectId, { ...window, dimension: DIMENSION, limit: 10 }, DIMENSIONS);
    const dashTimes = await sampleRuns(dashboard, args.runs);
    const compareTimes = await sampleRuns(compare, args.runs);
    const videoTimes = await sampleRuns(ranking, args.runs);

    // Baseline: the same dashboard sums from the signal rows at query time.
    const raw = () => db.query(
      `SELECT date_trunc('day', s.rollup_hour, 'UTC') AS bucket, g.model_version, count(*)::float8 AS rated,
              sum((s.dimension_ratings ->> $2)::float8) AS rating_sum
         FROM video_user_signals s JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
        WHERE s.project_id = $1 AND s.rollup_hour >= $3 AND s.rollup_hour < $4 AND s.dimension_ratings ? $2
        GROUP BY 1, 2 ORDER BY 1, 2`,
      [projectId, DIMENSION, window.from, window.to],
    ) as Promise<{ bucket: Date; model_version: string; rated: number; rating_sum: number }[]>;
    const rawTimes: number[] = [];
    let rawRows: Awaited<ReturnType<typeof raw>> = [];
    for (let i = 0; i < args.rawRuns; i++) {
      const [rows, t] = await timed(raw);
      rawRows = rows;
      rawTimes.push(t);
    }
    const answer = await dashboard();
    const mismatch = answer.series.length !== rawRows.length || answer.series.some((p, i) => {
      const r = rawRows[i];
      const rating = (p.metrics as Record<string, { value: number | null }>).rating.value!;
      return p.bucket !== new Date(r.bucket).toISOString() || p.group.modelVersion !== r.model_version || p.n !== Number(r.rated)
        || Math.abs(rating - Number(r.rating_sum) / Number(r.rated)) > 1e-9 * rating;
    });
    if (mismatch) throw new Error(`the dimension rollups' answer differs from the signal rows' (${answer.series.length} vs ${rawRows.length} points)`);

    // Ingest cost of one batch whose rows carry ratings, on the seeded tables (rolled back each time).
    const batch = new RollupAccumulator('v2');
    let batchRated = 0;
    for (let i = 0; i < args.batchRows; i++) {
      const video = (i * 7919) % videos;
      const dims = { model: 'seedance', modelVersion: `1.${video % 8}`, category: ['pets', 'travel', 'food', 'sports', 'fashion', 'music'][Math.floor(video / 8) % 6], segment: ['casual', 'pro', 'teen', 'business'][Math.floor(video / 48) % 4] };
      const ratings: Record<string, number> = {};
      for (const [k, d] of DIMENSIONS.entries()) if (((i * 31 + k * 17) % 100) / 100 < args.ratedShare) ratings[d] = 1 + ((i + k) % 5);
      if (Object.keys(ratings).length) batchRated++;
      const contribution = Float64Array.from(ROLLUP_COUNTERS, (_, c) => (c === 0 ? 1 : (i + c) % 2));
      batch.add({ projectId, videoId: `v${video}`, userHash: `h-batch-${i}` }, end - HOUR_MS, dims, contribution, 1, ratings);
    }
    const deltas = batch.deltas();
    const inRolledBack = (work: (tx: IngestTransaction) => Promise<void>) => async () => {
      await db.transaction(async (em) => {
        await work(new IngestTransaction(em));
        throw new RolledBack();
      }).catch((e) => { if (!(e instanceof RolledBack)) throw e; });
    };
    const overallTimes = await sampleRuns(inRolledBack((tx) => tx.applyRollupDeltas(deltas, ROLLUP_COUNTERS, MOMENT_COLUMNS)), args.runs);
    const dimensionTimes = await sampleRuns(inRolledBack((tx) => tx.applyDimensionDeltas(deltas.dimensions!, DIMENSION_COUNTERS, DIMENSION_MOMENT_COLUMNS)), args.runs);
    const emptyTimes = await sampleRuns(inRolledBack(async () => undefined), args.runs);

    const median = (t: number[]) => percentile(t, 50);
    const row = (name: string, t: number[]) => out(`  ${name.padEnd(44)} p50 ${median(t).toFixed(1).padStart(8)} ms   p95 ${percentile(t, 95).toFixed(1).padStart(8)} ms`);
    out('');
    row(`dashboard ${DIMENSION} (30 d, day × version)`, dashTimes);
    row(`compare ${DIMENSION} 1.0 vs 1.7`, compareTimes);
    row(`videos by ${DIMENSION}`, videoTimes);
    row('baseline: same sums from signal rows', rawTimes);
    row(`ingest: overall derived writes, ${args.batchRows} rows`, overallTimes);
    row(`ingest: + dimension statement (${batchRated} rated rows)`, dimensionTimes);
    row('ingest: empty transaction (floor)', emptyTimes);
    const p95 = percentile(dashTimes, 95);
    const rawP95 = percentile(rawTimes, 95);
    out(JSON.stringify({
      signals, ratedRows: rated, p50Ms: median(dashTimes), p95Ms: p95, compareP95Ms: percentile(compareTimes, 95), videosP95Ms: percentile(videoTimes, 95),
      rawP95Ms: rawP95, speedup: rawP95 / p95, batchRows: args.batchRows, batchRatedRows: batchRated,
      overallWritesMs: median(overallTimes) - median(emptyTimes), dimensionWritesMs: median(dimensionTimes) - median(emptyTimes), dimensionTableRows,
    }));
  } finally {
    await db.destroy();
    if (!args.keep) await dropDatabase(database);
  }
}

class RolledBack extends Error {}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
