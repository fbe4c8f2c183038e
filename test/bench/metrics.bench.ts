/*
 * Metrics benchmark: `npm run bench:metrics -- [--events 10000000] [--runs 50] [--raw-runs 3] [--days 60] [--keep]`.
 *
 * Builds a scratch database flywheel_bench_metrics_<random> (dropped at the end unless --keep) and seeds it in SQL,
 * not through the apps: 8 model versions × 6 categories × 4 segments of generations (one video per ~30 viewers),
 * then (video, user) episodes spread over `--days` days ending now — impression, play, progress, complete and the
 * explicit signals with version-dependent rates — expanded into ~`--events` feedback_events rows with
 * INSERT … SELECT over generate_series. The derived state is computed from those rows in SQL: one aggregate per
 * (video, user) gives the video_user_signals rows, and those summed per hour × dimensions give satisfaction_rollups.
 * The score there is a plausible stand-in for the policy (tanh of the v1 weights, with the watch term linear in the
 * watch ratio instead of its duration-bucket rank) — the figure measured is the read path, which does not care.
 * No toggles (unlike) in the seed: the raw aggregation below would need last-writer-wins to fold them.
 *
 * Timed, through SatisfactionMetricsService (apps/api/src/metrics) over MetricsRepository on a pool of 2 — the code
 * behind GET /v1/metrics/satisfaction and /compare, without HTTP:
 *   - the dashboard query: 30 days, granularity=day, groupBy=modelVersion, `--runs` times after 3 warm-up runs;
 *   - the comparison of two versions over the same 30 days, `--runs` times;
 *   - the best/worst videos of the window (from video_aggregates), `--runs` times.
 * Ceiling, same run: the dashboard answer recomputed from the raw events — feedback_events grouped per (video,
 * user), joined to generations, grouped per day × version — `--raw-runs` times; it must give the same figures as
 * the rollups (checked: every value and interval bound to 1e-9 relative), and rawP95Ms / p95Ms is the speedup.
 *
 * Prints a table, then as the last line one JSON object:
 * {"events", "p50Ms", "p95Ms", "rawP95Ms", "speedup", "compareP50Ms", "compareP95Ms", "videosP50Ms", "videosP95Ms",
 * "rollupRows", "rowsScanned", "hourlyRowsInWindow"} — rowsScanned counts the daily + hourly rollup rows the
 * dashboard query reads. The answers carry cluster-robust intervals: the seed also fills video_aggregates,
 * user_aggregates and cluster_moments from the scored episodes, as the worker keeps them.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { TestDatabase, openTestDatabase } from '@flywheel/database/testing';
import { FlywheelConfig, loadConfig } from '@flywheel/config';
import { MetricsRepository, ROLLUP_COLUMNS, RollupTotals, createProjectWithKeys, dropDatabase, migrate, ProjectsRepository } from '@flywheel/database';
import { MOMENT_COLUMNS } from '@flywheel/satisfaction';
import { SatisfactionMetricsService, metricSet } from '../../apps/api/src/metrics/satisfaction-metrics.service';
import { positiveArg } from './args';

interface Args { events: number; runs: number; rawRuns: number; days: number; keep: boolean }

function parseArgs(argv: string[]): Args {
  const value = (name: string, fallback: number): number => positiveArg(argv, name, fallback);
  return { events: value('events', 10_000_000), runs: value('runs', 50), rawRuns: value('raw-runs', 3), days: value('days', 60), keep: argv.includes('--keep') };
}

const VERSIONS = 8;
const CATEGORIES = ['pets', 'travel', 'food', 'sports', 'fashion', 'music'];
const SEGMENTS = ['casual', 'pro', 'teen', 'business'];
const VIEWERS_PER_VIDEO = 30;
/** Expected events per episode with the probabilities below (measured, then used to size the episode count). */
const EVENTS_PER_EPISODE = 3.36;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Per (video, user) aggregate of the raw events: the signal state the worker would fold (no toggles in this seed),
 * the effective watch ratio `w` and the stand-in satisfaction score (stored as real, like the worker's).
 */
function episodeAggregate(source: string): string {
  return `
    SELECT video_id, user_hash, count(*)::int AS event_count, min(occurred_at) AS first_at, max(occurred_at) AS last_at,
           bool_or(type IN ('impression', 'play', 'complete')) AS impressed, bool_or(type IN ('play', 'complete')) AS played,
           bool_or(type = 'complete' OR (type = 'progress' AND watch_ms >= 0.98 * duration_ms)) AS completed, bool_or(type = 'like') AS liked, bool_or(type = 'favorite') AS favorited,
           bool_or(type = 'share') AS shared, bool_or(type = 'download') AS downloaded, bool_or(type = 'export') AS exported,
           bool_or(type = 'comment') AS commented, bool_or(type = 'regenerate') AS regenerated,
           bool_or(type = 'discard') AS discarded, bool_or(type = 'dislike') AS disliked, bool_or(type = 'report') AS reported,
           max(rating) FILTER (WHERE type = 'rate') AS rating,
           least(max(watch_ms / duration_ms) FILTER (WHERE type = 'progress'), 1.5) AS max_ratio,
           max(duration_ms) AS duration_ms, max(watch_ms) AS max_watch_ms
      FROM ${source}
     GROUP BY video_id, user_hash`;
}

const WATCH = `CASE WHEN a.completed THEN least(greatest(coalesce(a.max_ratio, 1), 1), 1.5) ELSE a.max_ratio END`;
const SCORE = `tanh(a.liked::int + a.favorited::int + 0.8 * a.shared::int + 0.8 * a.downloaded::int + 1.2 * a.exported::int
      + 0.3 * a.commented::int - a.disliked::int - 0.8 * a.discarded::int - 2 * a.reported::int - 0.5 * a.regenerated::int
      + coalesce((a.rating - 3) / 2.0, 0) + 0.1 * a.played::int + coalesce(0.4 * (2 * least(${WATCH}, 1) - 1), 0))::real`;

/** The rollup counters of a set of scored episodes `s` (columns of episodeAggregate plus w and satisfaction). */
const COUNTERS = `
  count(*)::float8 AS viewers, count(*) FILTER (WHERE s.impressed)::float8 AS impressions,
  count(*) FILTER (WHERE s.played)::float8 AS plays, count(*) FILTER (WHERE s.completed)::float8 AS completions,
  count(*) FILTER (WHERE s.liked)::float8 AS likes, count(*) FILTER (WHERE s.favorited)::float8 AS favorites,
  count(*) FILTER (WHERE s.shared)::float8 AS shares, count(*) FILTER (WHERE s.downloaded)::float8 AS downloads,
  count(*) FILTER (WHERE s.exported)::float8 AS exports, count(*) FILTER (WHERE s.commented)::float8 AS comments,
  0::float8 AS chosen, 0::float8 AS passed_over,
  count(*) FILTER (WHERE s.regenerated)::float8 AS regenerates, count(*) FILTER (WHERE s.discarded)::float8 AS discards,
  count(*) FILTER (WHERE s.disliked)::float8 AS dislikes, count(*) FILTER (WHERE s.reported)::float8 AS reports,
  coalesce(sum(s.rating), 0)::float8 AS rating_sum, count(s.rating)::float8 AS rating_count,
  count(s.w)::float8 AS watch_n, coalesce(sum(s.w), 0)::float8 AS watch_sum, coalesce(sum(s.w * s.w), 0)::float8 AS watch_sumsq,
  sum(s.satisfaction::float8) AS sat_sum, sum(s.satisfaction::float8 * s.satisfaction::float8) AS sat_sumsq`;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function seed(db: TestDatabase, projectId: string, args: Args, end: number, log: (step: string, ms: number, detail?: string) => void) {
  const episodes = Math.max(1000, Math.round(args.events / EVENTS_PER_EPISODE));
  const videos = Math.max(VERSIONS * CATEGORIES.length * SEGMENTS.length, Math.round(episodes / VIEWERS_PER_VIDEO));
  const users = Math.max(1000, Math.round(episodes / 6));
  const spanSeconds = args.days * 86400;
  const start = new Date(end - args.days * DAY_MS).toISOString();
  await db.query(`SET synchronous_commit = off`);
  await db.query(`SET maintenance_work_mem = '512MB'`);
  await db.query(`SET work_mem = '256MB'`);
  await db.query(`SELECT setseed(0.42)`);

  let [, ms] = await timed(() => db.query(
    `INSERT INTO generations (project_id, video_id, request_id, prompt, prompt_norm, model, model_version, category, segment,
                              duration_ms, features, created_at, received_at)
     SELECT $1, 'v' || i, 'r' || (i / 4), 'prompt ' || (i / 4), 'prompt ' || (i / 4), 'seedance', '1.' || (i % ${VERSIONS}),
            (ARRAY['${CATEGORIES.join("','")}'])[1 + (i / ${VERSIONS}) % ${CATEGORIES.length}],
            (ARRAY['${SEGMENTS.join("','")}'])[1 + (i / ${VERSIONS * CATEGORIES.length}) % ${SEGMENTS.length}],
            5000 + (i * 7919) % 55000, ARRAY[random(), random(), random(), random()]::real[],
            $2::timestamptz + floor(i::float8 / $3 * $4) * interval '1 second', $2::timestamptz
       FROM generate_series(0, $3 - 1) AS i`,
    [projectId, start, videos, spanSeconds],
  ));
  log('generations', ms, `${videos.toLocaleString('en')} videos`);

  // One row per (video, user) episode with its random draws; the version index (video % 8) shifts the rates.
  [, ms] = await timed(() => db.query(
    `CREATE UNLOGGED TABLE bench_episodes AS
     SELECT j, video, ((j / $1) * 7919 + video * 31) % $2 AS usr, vi,
            $3::timestamptz + (floor(random() * $4) * interval '1 second') AS t0,
            5000 + (video * 7919) % 55000 AS duration_ms, random() AS watch,
            random() < 0.75 AS played, random() < 0.35 + 0.02 * vi AS completes, random() < 0.12 + 0.01 * vi AS liked,
            random() < 0.04 AS favorited, random() < 0.05 AS shared, random() < 0.03 AS downloaded,
            random() < 0.03 + 0.005 * vi AS exported, random() < 0.02 AS commented,
            random() < 0.08 - 0.005 * vi AS regenerated, random() < 0.04 AS discarded,
            random() < 0.06 - 0.004 * vi AS disliked, random() < 0.05 AS rated, 1 + floor(random() * 5)::int2 AS rating
       FROM (SELECT j, j % $1 AS video, (j % $1) % ${VERSIONS} AS vi FROM generate_series(0, $5 - 1) AS j) AS e`,
    [videos, users, start, spanSeconds, episodes],
  ));
  log('episodes', ms, `${episodes.toLocaleString('en')} (video, user) episodes`);

  // Bulk load without the indexes, then build them once (as a restore would). Whatever the migrations left on the
  // table is read from the catalog, so a migration that adds or drops an index never breaks this.
  const restoreIndexes = await dropIndexes(db, 'feedback_events');
  [, ms] = await timed(() => db.query(
    `INSERT INTO feedback_events (project_id, event_id, type, video_id, user_hash, occurred_at, received_at, watch_ms,
                                  duration_ms, rating)
     SELECT $1, 'e' || p.j || '.' || x.k, x.type, 'v' || p.video, 'u' || p.usr, p.t0 + x.k * interval '1 second',
            p.t0 + x.k * interval '1 second' + interval '2 seconds', x.watch_ms, x.duration_ms, x.rating
       FROM bench_episodes p
      CROSS JOIN LATERAL (VALUES
        (0, 'impression', true, NULL::float8, NULL::float8, NULL::int2),
        (1, 'play', p.played, NULL, NULL, NULL),
        (2, 'progress', p.played, p.watch * 1.1 * p.duration_ms, p.duration_ms::float8, NULL),
        (3, 'complete', p.played AND p.completes, NULL, p.duration_ms::float8, NULL),
        (4, 'like', p.liked, NULL, NULL, NULL),
        (5, 'favorite', p.favorited, NULL, NULL, NULL),
        (6, 'share', p.shared, NULL, NULL, NULL),
        (7, 'download', p.downloaded, NULL, NULL, NULL),
        (8, 'export', p.exported, NULL, NULL, NULL),
        (9, 'comment', p.commented, NULL, NULL, NULL),
        (10, 'rate', p.rated, NULL, NULL, p.rating),
        (11, 'regenerate', p.regenerated, NULL, NULL, NULL),
        (12, 'discard', p.discarded, NULL, NULL, NULL),
        (13, 'dislike', p.disliked, NULL, NULL, NULL)
      ) AS x(k, type, keep, watch_ms, duration_ms, rating)
      WHERE x.keep`,
    [projectId],
  ));
  const [{ n: events }] = await db.query(`SELECT count(*)::int AS n FROM feedback_events`);
  log('feedback_events', ms, `${events.toLocaleString('en')} events (INSERT … SELECT)`);
  [, ms] = await timed(restoreIndexes);
  log('feedback_events indexes', ms);

  // Derived state from the raw rows, the way the worker keeps it: signals per (video, user), rollups per hour.
  [, ms] = await timed(() => db.query(
    `CREATE UNLOGGED TABLE bench_scored AS
     SELECT a.*, ${WATCH} AS w, ${SCORE} AS satisfaction
       FROM (${episodeAggregate(`feedback_events WHERE project_id = '${projectId}'`)}) AS a`,
  ));
  log('episode aggregate', ms);
  [, ms] = await timed(() => db.query(
    `INSERT INTO video_user_signals (project_id, video_id, user_hash, impressed, played, completed, max_watch_ratio,
            max_watch_ms, duration_ms, liked, favorited, shared, downloaded, exported, commented, rating, regenerated,
            discarded, disliked, reported, event_count, first_event_at, last_event_at, satisfaction, policy_id,
            rollup_hour, rollup_attributed)
     SELECT $1, video_id, user_hash, impressed, played, completed, max_ratio, max_watch_ms, duration_ms, liked, favorited,
            shared, downloaded, exported, commented, rating, regenerated, discarded, disliked, reported, event_count,
            first_at, last_at, satisfaction, 'v1', date_trunc('hour', first_at, 'UTC'), true
       FROM bench_scored`,
    [projectId],
  ));
  log('video_user_signals', ms);
  [, ms] = await timed(() => db.query(
    `INSERT INTO satisfaction_rollups (project_id, hour, model, model_version, category, segment, policy_id, ${ROLLUP_COLUMNS.join(', ')})
     SELECT $1, date_trunc('hour', s.first_at, 'UTC'), g.model, g.model_version, coalesce(g.category, ''),
            coalesce(g.segment, ''), 'v1', ${COUNTERS.replace(/ AS \w+/g, '')}
       FROM bench_scored s
       JOIN generations g ON g.project_id = $1 AND g.video_id = s.video_id
      GROUP BY 2, 3, 4, 5, 6`,
    [projectId],
  ));
  const [{ n: rollupRows }] = await db.query(`SELECT count(*)::int AS n FROM satisfaction_rollups`);
  log('satisfaction_rollups', ms, `${rollupRows.toLocaleString('en')} hourly rows`);
  // The daily rollups, as the ingest code writes them beside the hourly ones: the hourly rows summed per UTC day.
  [, ms] = await timed(() => db.query(
    `INSERT INTO satisfaction_rollups_daily (project_id, day, model, model_version, category, segment, ${ROLLUP_COLUMNS.join(', ')})
     SELECT project_id, date_trunc('day', hour, 'UTC'), model, model_version, category, segment,
            ${ROLLUP_COLUMNS.map((c) => `sum(${c})`).join(', ')}
       FROM satisfaction_rollups WHERE project_id = $1
      GROUP BY 1, 2, 3, 4, 5, 6`,
    [projectId],
  ));
  log('satisfaction_rollups_daily', ms);
  // The per-video and per-user aggregates and their cluster moments, as the ingest code keeps them.
  [, ms] = await timed(async () => {
    await db.query(
      `INSERT INTO video_aggregates (project_id, video_id, model, model_version, category, segment, created_at, ${ROLLUP_COLUMNS.join(', ')})
       SELECT $1, s.video_id, g.model, g.model_version, coalesce(g.category, ''), coalesce(g.segment, ''), g.created_at,
              ${COUNTERS.replace(/ AS \w+/g, '')}
         FROM bench_scored s JOIN generations g ON g.project_id = $1 AND g.video_id = s.video_id
        GROUP BY 2, 3, 4, 5, 6, 7`,
      [projectId],
    );
    await db.query(
      `INSERT INTO user_aggregates (project_id, user_hash, model, model_version, ${ROLLUP_COLUMNS.join(', ')})
       SELECT $1, s.user_hash, g.model, g.model_version, ${COUNTERS.replace(/ AS \w+/g, '')}
         FROM bench_scored s JOIN generations g ON g.project_id = $1 AND g.video_id = s.video_id
        GROUP BY 2, 3, 4`,
      [projectId],
    );
    const moments = MOMENT_COLUMNS.map((m) => `sum(${m.a} * ${m.b})`).join(', ');
    await db.query(
      `INSERT INTO cluster_moments (project_id, unit, model, model_version, category, segment, clusters, ${MOMENT_COLUMNS.map((m) => m.name).join(', ')})
       SELECT project_id, 'video', model, model_version, category, segment, count(*), ${moments}
         FROM video_aggregates WHERE project_id = $1 GROUP BY 1, 2, 3, 4, 5, 6
       UNION ALL
       SELECT project_id, 'user', model, model_version, '', '', count(*), ${moments}
         FROM user_aggregates WHERE project_id = $1 GROUP BY 1, 2, 3, 4`,
      [projectId],
    );
  });
  const [{ v: videoRows, u: userRows }] = await db.query(`SELECT (SELECT count(*) FROM video_aggregates)::int AS v, (SELECT count(*) FROM user_aggregates)::int AS u`);
  log('video/user aggregates', ms, `${videoRows.toLocaleString('en')} videos, ${userRows.toLocaleString('en')} (user, version) rows`);
  await db.query(`DROP TABLE bench_episodes`);
  await db.query(`DROP TABLE bench_scored`);
  [, ms] = await timed(() => db.query(`VACUUM ANALYZE`));
  log('vacuum analyze', ms);
  return { events: Number(events), rollupRows: Number(rollupRows) };
}

/**
 * Drops a table's constraints that own an index (primary key, unique, exclusion) and its other indexes; returns the
 * function that builds them again from their catalog definitions.
 */
async function dropIndexes(db: TestDatabase, table: string): Promise<() => Promise<void>> {
  const constraints: { name: string; definition: string }[] = await db.query(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
      WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'x') ORDER BY conname`, [table]);
  const indexes: { name: string; definition: string }[] = await db.query(
    `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      WHERE x.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
      ORDER BY i.relname`, [table]);
  for (const c of constraints) await db.query(`ALTER TABLE ${table} DROP CONSTRAINT ${c.name}`);
  for (const i of indexes) await db.query(`DROP INDEX ${i.name}`);
  return async () => {
    for (const c of constraints) await db.query(`ALTER TABLE ${table} ADD CONSTRAINT ${c.name} ${c.definition}`);
    for (const i of indexes) await db.query(i.definition);
  };
}

/** The dashboard answer recomputed from feedback_events: the same shape the service returns. */
async function rawAnswer(db: TestDatabase, projectId: string, from: Date, to: Date) {
  const rows: Record<string, unknown>[] = await db.query(
    `WITH s AS (
       SELECT a.*, ${WATCH} AS w, ${SCORE} AS satisfaction
         FROM (${episodeAggregate(`feedback_events WHERE project_id = $1`)}) AS a
     )
     SELECT date_trunc('day', s.first_at, 'UTC') AS bucket, g.model, g.model_version AS "modelVersion", ${COUNTERS}
       FROM s JOIN generations g ON g.project_id = $1 AND g.video_id = s.video_id
      WHERE s.first_at >= $2 AND s.first_at < $3
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    [projectId, from.toISOString(), to.toISOString()],
  );
  return rows.map((r) => ({
    bucket: new Date(r.bucket as string).toISOString(),
    group: { model: r.model, modelVersion: r.modelVersion },
    n: Number(r.viewers),
    metrics: metricSet(Object.fromEntries(ROLLUP_COLUMNS.map((c) => [c, Number(r[c])])) as RollupTotals),
  }));
}

type Series = { bucket: string; group: Record<string, unknown>; n: number; metrics: Record<string, { value: number | null; n: number; low: number | null; high: number | null }> }[];

/** Differences between two answers, to 1e-9 relative; empty when they agree. */
function differences(a: Series, b: Series): string[] {
  const problems: string[] = [];
  if (a.length !== b.length) return [`${a.length} points against ${b.length}`];
  const close = (x: number | null, y: number | null) => (x === null || y === null ? x === y : Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y)));
  a.forEach((p, i) => {
    const q = b[i];
    if (p.bucket !== q.bucket || JSON.stringify(p.group) !== JSON.stringify(q.group) || p.n !== q.n) problems.push(`point ${i}: ${p.bucket} ${JSON.stringify(p.group)} n=${p.n} vs ${q.bucket} ${JSON.stringify(q.group)} n=${q.n}`);
    for (const [metric, e] of Object.entries(p.metrics)) {
      const f = q.metrics[metric];
      // Values and denominators: the intervals also need the cluster sums, which the raw recomputation does not have.
      if (e.n !== f.n || !close(e.value, f.value)) problems.push(`point ${i} ${metric}: ${JSON.stringify(e)} vs ${JSON.stringify(f)}`);
    }
  });
  return problems;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config: FlywheelConfig = loadConfig();
  const database = { ...config.database, name: `flywheel_bench_metrics_${randomBytes(3).toString('hex')}` };
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const log = (step: string, ms: number, detail = '') => out(`  seed ${step.padEnd(26)} ${(ms / 1000).toFixed(1).padStart(7)} s  ${detail}`);
  out(`metrics benchmark: ~${args.events.toLocaleString('en')} events over ${args.days} days in ${database.name}`);
  await migrate(database);
  const db = await openTestDatabase(database, { poolSize: 2 });
  try {
    const project = await createProjectWithKeys(db.make(ProjectsRepository), 'bench', 4);
    const end = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const seeded = await seed(db, project.projectId, args, end, log);

    const service = new SatisfactionMetricsService(db.make(MetricsRepository));
    const from = new Date(end - 30 * DAY_MS);
    const to = new Date(end);
    const window = { from: from.toISOString(), to: to.toISOString() };
    const dashboard = () => service.satisfaction(project.projectId, { ...window, granularity: 'day', groupBy: ['modelVersion'] });
    const compare = () => service.compare(project.projectId, { ...window, baseline: '1.0', candidate: '1.7' });

    const measure = async (work: () => Promise<unknown>, runs: number) => {
      for (let i = 0; i < 3; i++) await work();
      const samples: number[] = [];
      for (let i = 0; i < runs; i++) samples.push((await timed(work))[1]);
      return samples;
    };
    const dashboardMs = await measure(dashboard, args.runs);
    const compareMs = await measure(compare, args.runs);
    const videosMs = await measure(() => service.videos(project.projectId, { ...window, limit: 10 }), args.runs);
    const answer = await dashboard();

    const rawMs: number[] = [];
    let raw: Series = [];
    for (let i = 0; i < args.rawRuns; i++) {
      const [result, ms] = await timed(() => rawAnswer(db, project.projectId, from, to));
      raw = result;
      rawMs.push(ms);
    }
    const problems = differences(answer.series as Series, raw);
    // What the dashboard query reads: daily rows for the whole days, hourly rows for the ragged ends.
    const dayFrom = new Date(Math.ceil(from.getTime() / DAY_MS) * DAY_MS).toISOString();
    const dayTo = new Date(Math.floor(to.getTime() / DAY_MS) * DAY_MS).toISOString();
    const [{ daily, edges, hourly }] = await db.query(
      `SELECT (SELECT count(*) FROM satisfaction_rollups_daily WHERE project_id = $1 AND day >= $3 AND day < $4)::int AS daily,
              (SELECT count(*) FROM satisfaction_rollups WHERE project_id = $1
                  AND ((hour >= $2 AND hour < $3) OR (hour >= $4 AND hour < $5)))::int AS edges,
              (SELECT count(*) FROM satisfaction_rollups WHERE project_id = $1 AND hour >= $2 AND hour < $5)::int AS hourly`,
      [project.projectId, window.from, dayFrom, dayTo, window.to],
    );
    const rowsScanned = daily + edges;

    const p50 = percentile(dashboardMs, 50);
    const p95 = percentile(dashboardMs, 95);
    const rawP95 = percentile(rawMs, 95);
    const row = (name: string, samples: number[], detail: string) =>
      out(`  ${name.padEnd(34)} ${String(samples.length).padStart(4)} ${percentile(samples, 50).toFixed(1).padStart(9)} ${percentile(samples, 95).toFixed(1).padStart(9)}  ${detail}`);
    out('');
    out(`  ${'query (30 days, day buckets)'.padEnd(34)} runs    p50 ms    p95 ms`);
    row('dashboard: groupBy=modelVersion', dashboardMs, `${answer.series.length} points; reads ${daily.toLocaleString('en')} daily + ${edges.toLocaleString('en')} hourly rows (all-hourly: ${hourly.toLocaleString('en')})`);
    row('compare 1.0 vs 1.7', compareMs, '11 metrics, clustered, always-valid, BH');
    row('videos best/worst', videosMs, 'video_aggregates (videos generated in the window)');
    row('dashboard from raw events', rawMs, `${seeded.events.toLocaleString('en')} events`);
    out('');
    out(problems.length === 0
      ? `  same answer from rollups and raw events: yes (${answer.series.length} points × 11 metrics' values and n, to 1e-9)`
      : `  same answer from rollups and raw events: NO\n    ${problems.slice(0, 5).join('\n    ')}`);
    out(`  speedup (raw p95 / rollup p95): ${(rawP95 / p95).toFixed(0)}×; target p95 < 50 ms: ${p95 < 50 ? 'met' : 'NOT met'}`);
    out(JSON.stringify({
      events: seeded.events, p50Ms: round(p50), p95Ms: round(p95), rawP95Ms: round(rawP95), speedup: round(rawP95 / p95),
      compareP50Ms: round(percentile(compareMs, 50)), compareP95Ms: round(percentile(compareMs, 95)),
      videosP50Ms: round(percentile(videosMs, 50)), videosP95Ms: round(percentile(videosMs, 95)),
      rollupRows: seeded.rollupRows, rowsScanned, hourlyRowsInWindow: hourly,
    }));
    if (problems.length) process.exitCode = 1;
  } finally {
    await db.close();
    if (!args.keep) await dropDatabase(database);
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

main().catch((error) => {
  process.stderr.write(`metrics benchmark failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
