/*
 * Deletion benchmark: `npm run bench:delete -- [--events 10000000] [--user-events 10000] [--user-days 60] [--runs 3] [--rebuild] [--keep]`.
 *
 * Builds a scratch database flywheel_bench_delete_<random> (dropped at the end unless --keep) and seeds one project
 * with test/bench/bulk-seed.ts (set-based SQL, as bench:metrics): ~`--events` feedback_events of a crowd over 60 days
 * ending now, plus `--runs` target users with `--user-events` events each (impression, play, progress, like on
 * distinct videos over the last `--user-days` of those days), and the derived state computed in SQL. With `--rebuild`
 * (the default up to 2,000,000 events) the project is then rebuilt by the real fold (`rebuildProject`, the code of
 * `flywheel metrics rebuild`), so the state is exactly what the worker would have written — and its time is the
 * baseline.
 *
 * Timed: deleting each target user as the api's job does (`deleteUserData`: tombstone, signal rows, events, rollup
 * contributions taken back, preference sets — one transaction), one after the other; median and max.
 * Baseline, same run when rebuilt: the rebuild of the whole project — what reaching a consistent state after deleting
 * a user's raw events would cost without the incremental path (`rebuildSpeedup` = rebuild / median deletion); null
 * without `--rebuild` (at 10M events it takes most of an hour).
 * Checked: every target's events and rows are gone, and the hourly and daily viewers dropped by exactly its rows.
 * Also timed, before each deletion: reading the user's events with the deletion's predicates over every partition
 * (what the deletion scanned before it was bounded by its rows' span) and over the span only.
 *
 * Prints the seed steps and a table, then as the last line one JSON object:
 * {"events", "userEvents", "userDays", "runs", "signalRows", "medianMs", "maxMs", "rebuildMs", "rebuildSpeedup", "seedSeconds", "fullScanMs", "spanScanMs"}.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '@flywheel/config';
import {
  DeletionsRepository, IngestRepository, ProjectsRepository, SatisfactionRepository, createProjectWithKeys, dropDatabase, migrate,
} from '@flywheel/database';
import { openTestDatabase } from '@flywheel/database/testing';
import { CachedQuantiles, SignalPipeline, deleteUserData, rebuildProject } from '@flywheel/ingest';
import { CURRENT_POLICY, SATISFACTION_POLICIES } from '@flywheel/satisfaction';
import { positiveArg } from './args';
import { TARGET_EVENTS_PER_EPISODE, seedProject } from './bulk-seed';

interface Args { events: number; userEvents: number; userDays: number; runs: number; rebuild: boolean; keep: boolean }

function parseArgs(argv: string[]): Args {
  const value = (name: string, fallback: number): number => positiveArg(argv, name, fallback);
  const events = value('events', 10_000_000);
  const rebuild = argv.includes('--rebuild') || (!argv.includes('--no-rebuild') && events <= REBUILD_UP_TO);
  return {
    events, userEvents: value('user-events', 10_000), userDays: Math.min(DAYS, value('user-days', DAYS)), runs: value('runs', 3), rebuild,
    keep: argv.includes('--keep'),
  };
}

/** Up to this many events the rebuild baseline runs by default (it folds ~5 min per million events under load). */
const REBUILD_UP_TO = 2_000_000;
const DAYS = 60;
const HOUR_MS = 3_600_000;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  const database = { ...config.database, name: `flywheel_bench_delete_${randomBytes(3).toString('hex')}` };
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`deletion benchmark: one user with ${args.userEvents.toLocaleString('en')} events among ~${args.events.toLocaleString('en')}, ${args.runs} users, in ${database.name}`);
  await migrate(database);
  const db = await openTestDatabase(database, { poolSize: 2 });
  const seedStart = performance.now();
  try {
    const project = await createProjectWithKeys(db.make(ProjectsRepository), 'bench', 4);
    const projectId = project.projectId;
    const satisfaction = db.make(SatisfactionRepository);
    await satisfaction.ensurePolicies(Object.values(SATISFACTION_POLICIES).map((p) => ({ id: p.id, params: p })));
    const end = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const targetEpisodes = Math.max(1, Math.round(args.userEvents / TARGET_EVENTS_PER_EPISODE));
    const log = (step: string, ms: number, detail = '') => out(`  seed ${step.padEnd(26)} ${(ms / 1000).toFixed(1).padStart(7)} s  ${detail}`);
    const seeded = await seedProject(db, { projectId, events: args.events, days: DAYS, end, targets: { users: args.runs, episodes: targetEpisodes, days: args.userDays } }, log);
    const ingest = db.make(IngestRepository);
    const quantiles = new CachedQuantiles(satisfaction, CURRENT_POLICY.id);
    let rebuildMs: number | null = null;
    if (args.rebuild) {
      // The baseline, and the derived state the real fold writes (it replaces the seed's SQL stand-in).
      const rebuildStart = performance.now();
      await rebuildProject(ingest, quantiles, CURRENT_POLICY, projectId);
      rebuildMs = performance.now() - rebuildStart;
      await db.query(`ANALYZE`);
    }
    const seedSeconds = (performance.now() - seedStart) / 1000 - (rebuildMs ?? 0) / 1000;
    out(`  seeded ${seeded.events.toLocaleString('en')} events → ${seeded.signalRows.toLocaleString('en')} signal rows, ${seeded.rollupRows.toLocaleString('en')} hourly rollup rows in ${seedSeconds.toFixed(1)} s${rebuildMs === null ? '' : `; rebuild ${(rebuildMs / 1000).toFixed(1)} s`}`);

    const count = async (sql: string, params: unknown[]) => Number(Object.values((await db.query(sql, params))[0])[0]);
    const deletions = db.make(DeletionsRepository);
    const pipeline = new SignalPipeline(CURRENT_POLICY, quantiles);
    const samples: number[] = [];
    const scans = { full: [] as number[], span: [] as number[] };
    // The deletion's events statement scans the project's events; it reads only the partitions of the days its rows
    // span. The baseline, same run: the same predicates read over every partition (as before), and over the span.
    const scanMs = async (user: string, span: boolean) => {
      const [{ videos, first, last }] = await db.query(
        `SELECT array_agg(video_id) AS videos, min(first_event_at) AS first, max(last_event_at) AS last FROM video_user_signals WHERE project_id = $1 AND user_hash = $2`,
        [projectId, user]);
      const t0 = performance.now();
      await db.query(
        `SELECT count(*) FROM feedback_events WHERE project_id = $1 AND video_id = ANY($2::text[]) AND user_hash = $3${span ? ' AND occurred_at >= $4 AND occurred_at <= $5' : ''}`,
        span ? [projectId, videos, user, first, last] : [projectId, videos, user]);
      return performance.now() - t0;
    };
    out('  user       events  signal rows  rollup rows     ms   scan all ms  scan span ms');
    for (let r = 0; r < args.runs; r++) {
      const user = `target-${r}`;
      const viewers = () => Promise.all(['satisfaction_rollups', 'satisfaction_rollups_daily'].map((t) => count(`SELECT sum(viewers) FROM ${t} WHERE project_id = $1`, [projectId])));
      const before = await viewers();
      const job = await deletions.requestUser(projectId, user, 'bench');
      scans.full.push(await scanMs(user, false));
      scans.span.push(await scanMs(user, true));
      const t0 = performance.now();
      const result = await deleteUserData({ ingest, pipeline }, projectId, user, job.id);
      const ms = performance.now() - t0;
      samples.push(ms);
      out(`  ${user.padEnd(9)} ${String(result.events).padStart(7)}  ${String(result.signalRows).padStart(11)}  ${String(result.rollupRows).padStart(11)}  ${ms.toFixed(0).padStart(5)}  ${scans.full[r].toFixed(0).padStart(12)}  ${scans.span[r].toFixed(0).padStart(12)}`);
      const after = await viewers();
      const left = await count(`SELECT count(*) FROM feedback_events WHERE project_id = $1 AND user_hash = $2`, [projectId, user]);
      if (left !== 0 || result.events < args.userEvents * 0.5 || after.some((v, i) => v !== before[i] - result.signalRows)) {
        throw new Error(`deletion of ${user} incomplete: ${left} events left, viewers ${before} → ${after} for ${result.signalRows} rows`);
      }
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    const median = medianOf(samples);
    const baseline = rebuildMs === null ? 'rebuild not run (--rebuild to run it)' : `rebuilding the project instead: ${(rebuildMs / 1000).toFixed(1)} s (${(rebuildMs / median).toFixed(0)}×)`;
    out(`  median ${median.toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms; ${baseline}`);
    out(`  the user's events read over every partition: median ${medianOf(scans.full).toFixed(0)} ms; over the ${args.userDays} day(s) their rows span: ${medianOf(scans.span).toFixed(0)} ms`);
    out(JSON.stringify({
      events: seeded.events, userEvents: args.userEvents, userDays: args.userDays, runs: args.runs, signalRows: seeded.signalRows,
      medianMs: Math.round(median), maxMs: Math.round(sorted[sorted.length - 1]),
      rebuildMs: rebuildMs === null ? null : Math.round(rebuildMs),
      rebuildSpeedup: rebuildMs === null ? null : Math.round((rebuildMs / median) * 10) / 10, seedSeconds: Math.round(seedSeconds),
      fullScanMs: Math.round(medianOf(scans.full) * 10) / 10, spanScanMs: Math.round(medianOf(scans.span) * 10) / 10,
    }));
  } finally {
    await db.close();
    if (!args.keep) await dropDatabase(database);
  }
}

main().catch((error) => {
  process.stderr.write(`deletion benchmark failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
