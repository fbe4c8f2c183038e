/*
 * Metrics benchmark: `npm run bench:metrics -- [--events 10000000] [--runs 50] [--raw-runs 3] [--days 60] [--keep]`.
 *
 * Builds a scratch database flywheel_bench_metrics_<random> (dropped at the end unless --keep) and seeds it with
 * test/bench/bulk-seed.ts, in set-based SQL, not through the apps: 8 model versions × 6 categories × 4 segments of
 * generations (one video per ~30 viewers), (video, user) episodes spread over `--days` days ending now expanded into
 * ~`--events` feedback_events rows, and the derived state (signal rows, hourly and daily rollups, per-video and
 * per-user aggregates, cluster moments) computed from those rows in SQL with a stand-in score — the figure measured
 * is the read path, which does not care. Each seed step's time is printed.
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
 * dashboard query reads.
 */
import { randomBytes } from 'node:crypto';
import { TestDatabase, openTestDatabase } from '@flywheel/database/testing';
import { FlywheelConfig, loadConfig } from '@flywheel/config';
import { MetricsRepository, ROLLUP_COLUMNS, RollupTotals, createProjectWithKeys, dropDatabase, migrate, ProjectsRepository } from '@flywheel/database';
import { SatisfactionMetricsService, metricSet } from '../../apps/api/src/metrics/satisfaction-metrics.service';
import { positiveArg } from './args';
import { COUNTERS, SCORE, WATCH, episodeAggregate, seedProject } from './bulk-seed';
import { percentile, sampleRuns, timed } from './timing';

interface Args { events: number; runs: number; rawRuns: number; days: number; keep: boolean }

function parseArgs(argv: string[]): Args {
  const value = (name: string, fallback: number): number => positiveArg(argv, name, fallback);
  return { events: value('events', 10_000_000), runs: value('runs', 50), rawRuns: value('raw-runs', 3), days: value('days', 60), keep: argv.includes('--keep') };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;


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
    const seeded = await seedProject(db, { projectId: project.projectId, events: args.events, days: args.days, end }, log);

    const service = new SatisfactionMetricsService(db.make(MetricsRepository));
    const from = new Date(end - 30 * DAY_MS);
    const to = new Date(end);
    const window = { from: from.toISOString(), to: to.toISOString() };
    const dashboard = () => service.satisfaction(project.projectId, { ...window, granularity: 'day', groupBy: ['modelVersion'] });
    const compare = () => service.compare(project.projectId, { ...window, baseline: '1.0', candidate: '1.7' });

    const dashboardMs = await sampleRuns(dashboard, args.runs);
    const compareMs = await sampleRuns(compare, args.runs);
    const videosMs = await sampleRuns(() => service.videos(project.projectId, { ...window, limit: 10 }), args.runs);
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
