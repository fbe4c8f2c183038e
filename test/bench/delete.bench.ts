/*
 * Deletion benchmark: `npm run bench:delete -- [--events 10000000] [--user-events 10000] [--runs 3] [--keep]`.
 *
 * Builds a scratch database flywheel_bench_delete_<random> (dropped at the end unless --keep) and seeds one project in
 * SQL: generations, ~`--events` feedback_events of a crowd of users (3.3 events per (video, user) on average:
 * impression, play, progress, and a like 30% of the time), plus `--runs` target users with `--user-events` events each (4 per video, on distinct
 * videos, over ten days). The signal rows and hourly/daily rollups are then derived by the real fold
 * (`rebuildProject`, the code of `flywheel metrics rebuild`), so the state is what the worker would have written.
 *
 * Timed: deleting each target user as the api's job does (`deleteUserData`: tombstone, signal rows, events, rollup
 * contributions taken back, preference sets — one transaction), one after the other; median and max.
 * Baseline, same run: the rebuild of the whole project — what reaching a consistent state after deleting a user's
 * raw events would cost without the incremental path (`rebuildSpeedup` = rebuild / median deletion).
 * Checked: every target's events and rows are gone, and the hourly and daily viewers dropped by exactly its rows.
 *
 * Prints a table, then as the last line one JSON object:
 * {"events", "userEvents", "runs", "signalRows", "medianMs", "maxMs", "rebuildMs", "rebuildSpeedup", "seedSeconds"}.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '@flywheel/config';
import {
  DeletionsRepository, IngestRepository, ProjectsRepository, SatisfactionRepository, createDataSource, createProjectWithKeys,
  dropDatabase, migrate,
} from '@flywheel/database';
import { CachedQuantiles, SignalPipeline, deleteUserData, rebuildProject } from '@flywheel/ingest';
import { CURRENT_POLICY, SATISFACTION_POLICIES } from '@flywheel/satisfaction';
import { positiveArg } from './args';

interface Args { events: number; userEvents: number; runs: number; keep: boolean }

function parseArgs(argv: string[]): Args {
  const value = (name: string, fallback: number): number => positiveArg(argv, name, fallback);
  return { events: value('events', 10_000_000), userEvents: value('user-events', 10_000), runs: value('runs', 3), keep: argv.includes('--keep') };
}

/** Crowd episodes: impression, play, progress, and a like 30% of the time. */
const EVENTS_PER_EPISODE = 3.3;
const VIEWERS_PER_VIDEO = 40;
const EPISODES_PER_USER = 20;
const DAY_MS = 86_400_000;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  const database = { ...config.database, name: `flywheel_bench_delete_${randomBytes(3).toString('hex')}` };
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`deletion benchmark: one user with ${args.userEvents.toLocaleString('en')} events among ~${args.events.toLocaleString('en')}, ${args.runs} users, in ${database.name}`);
  await migrate(database);
  const db = createDataSource(database, { poolSize: 2 });
  await db.initialize();
  const seedStart = performance.now();
  try {
    const project = await createProjectWithKeys(new ProjectsRepository(db), 'bench', 4);
    const projectId = project.projectId;
    const satisfaction = new SatisfactionRepository(db);
    await satisfaction.ensurePolicies(Object.values(SATISFACTION_POLICIES).map((p) => ({ id: p.id, params: p })));
    const crowdEpisodes = Math.max(100, Math.round(args.events / EVENTS_PER_EPISODE));
    const targetEpisodes = Math.max(1, Math.round(args.userEvents / 4));
    const videos = Math.max(targetEpisodes * 2, Math.round(crowdEpisodes / VIEWERS_PER_VIDEO));
    const users = Math.max(10, Math.round(crowdEpisodes / EPISODES_PER_USER));
    const start = new Date(Date.UTC(2026, 9, 1)).toISOString();
    await db.query(`SET synchronous_commit = off`);
    await db.query(`SELECT setseed(0.42)`);
    await db.query(
      `INSERT INTO generations (project_id, video_id, request_id, prompt, prompt_norm, model, model_version, duration_ms, features, created_at, received_at)
       SELECT $1, 'v' || i, 'r' || (i / 4), 'prompt ' || (i / 4), 'prompt ' || (i / 4), 'seedance', '1.' || (i % 4), 6000,
              ARRAY[random(), random(), random(), random()]::real[], $2::timestamptz, $2::timestamptz
         FROM generate_series(0, $3 - 1) AS i`,
      [projectId, start, videos],
    );
    // Episodes: the crowd's (user u<n>), then each target's on distinct videos (user target-<r>), 4 events each.
    const episodes = (source: string) => `
      INSERT INTO feedback_events (project_id, event_id, type, video_id, user_hash, occurred_at, received_at, watch_ms, duration_ms)
      SELECT $1, e.tag || '.' || k, (ARRAY['impression', 'play', 'progress', 'like'])[k + 1], 'v' || e.video, e.usr,
             e.t0 + k * interval '1 second', e.t0 + k * interval '1 second',
             CASE WHEN k = 2 THEN floor(e.watch * 6000) END, CASE WHEN k = 2 THEN 6000 END
        FROM (${source}) AS e, generate_series(0, 3) AS k
       WHERE k < 3 OR e.likes`;
    await db.query(episodes(
      `SELECT 'c' || j AS tag, j % $3 AS video, 'u' || (((j / $3) * 7919 + (j % $3) * 31) % $4) AS usr, random() AS watch, random() < 0.3 AS likes,
              $2::timestamptz + floor(random() * 10 * 86400) * interval '1 second' AS t0
         FROM generate_series(0, $5 - 1) AS j`),
      [projectId, start, videos, users, crowdEpisodes],
    );
    for (let r = 0; r < args.runs; r++) {
      await db.query(episodes(
        `SELECT 't${r}.' || j AS tag, (j * 2 + ${r}) % $3 AS video, 'target-${r}' AS usr, random() AS watch, true AS likes,
                $2::timestamptz + floor(random() * 10 * 86400) * interval '1 second' AS t0
           FROM generate_series(0, $4 - 1) AS j`),
        [projectId, start, videos, targetEpisodes],
      );
    }
    await db.query(`ANALYZE feedback_events`);
    const ingest = new IngestRepository(db);
    const quantiles = new CachedQuantiles(satisfaction, CURRENT_POLICY.id);
    const rebuildStart = performance.now();
    const rebuilt = await rebuildProject(ingest, quantiles, CURRENT_POLICY, projectId);
    const rebuildMs = performance.now() - rebuildStart;
    await db.query(`ANALYZE`);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    out(`  seeded ${rebuilt.events.toLocaleString('en')} events → ${rebuilt.signalRows.toLocaleString('en')} signal rows, ${rebuilt.rollupRows.toLocaleString('en')} rollup rows in ${seedSeconds.toFixed(1)} s (rebuild ${(rebuildMs / 1000).toFixed(1)} s)`);

    const count = async (sql: string, params: unknown[]) => Number(Object.values((await db.query(sql, params))[0])[0]);
    const deletions = new DeletionsRepository(db);
    const pipeline = new SignalPipeline(CURRENT_POLICY, quantiles);
    const samples: number[] = [];
    out('  user       events  signal rows  rollup rows     ms');
    for (let r = 0; r < args.runs; r++) {
      const user = `target-${r}`;
      const viewers = () => Promise.all(['satisfaction_rollups', 'satisfaction_rollups_daily'].map((t) => count(`SELECT sum(viewers) FROM ${t} WHERE project_id = $1`, [projectId])));
      const before = await viewers();
      const job = await deletions.requestUser(projectId, user, 'bench');
      const t0 = performance.now();
      const result = await deleteUserData({ ingest, pipeline }, projectId, user, job.id);
      const ms = performance.now() - t0;
      samples.push(ms);
      out(`  ${user.padEnd(9)} ${String(result.events).padStart(7)}  ${String(result.signalRows).padStart(11)}  ${String(result.rollupRows).padStart(11)}  ${ms.toFixed(0).padStart(5)}`);
      const after = await viewers();
      const left = await count(`SELECT count(*) FROM feedback_events WHERE project_id = $1 AND user_hash = $2`, [projectId, user]);
      if (left !== 0 || result.events < args.userEvents * 0.5 || after.some((v, i) => v !== before[i] - result.signalRows)) {
        throw new Error(`deletion of ${user} incomplete: ${left} events left, viewers ${before} → ${after} for ${result.signalRows} rows`);
      }
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    out(`  median ${median.toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms; rebuilding the project instead: ${(rebuildMs / 1000).toFixed(1)} s (${(rebuildMs / median).toFixed(0)}×)`);
    out(JSON.stringify({
      events: rebuilt.events, userEvents: args.userEvents, runs: args.runs, signalRows: rebuilt.signalRows,
      medianMs: Math.round(median), maxMs: Math.round(sorted[sorted.length - 1]), rebuildMs: Math.round(rebuildMs),
      rebuildSpeedup: Math.round((rebuildMs / median) * 10) / 10, seedSeconds: Math.round(seedSeconds),
    }));
  } finally {
    await db.destroy();
    if (!args.keep) await dropDatabase(database);
  }
}

main().catch((error) => {
  process.stderr.write(`deletion benchmark failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
