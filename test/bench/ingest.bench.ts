/*
 * Ingest benchmark: `npm run bench:ingest -- [--events 200000] [--clients 8] [--batch-min 500] [--batch-max 1000]
 * [--dup-rate 0.01] [--seed 42] [--profile] [--sdk] [--child-node-options "<node flags for api and worker>"]
 * [--events-table daily|weekly|unpartitioned]`. The last one measures another shape of feedback_events: daily
 * partitions (the schema as migrated, the default), weekly ones, or the one table it was before partitioning
 * (./ingest/events-table.ts); run them alternately to compare.
 * The children inherit the environment, so WORKER_PARTITION_CONCURRENCY, PG_POOL_SIZE, … can be tried as well.
 *
 * Builds its own world — a scratch database flywheel_bench_<random>, its own topic prefix, a project with keys — and
 * starts the real built api and ingest-worker as child processes. Realistic traffic is generated up front (not
 * timed): generations registered for a few thousand videos (candidates grouped by request), then `--events` unique
 * feedback events from user×video episodes (impression → play → progress → complete, and the explicit signals),
 * in time order, cut into batches of 500–1000, plus `--dup-rate` of them sent again in a later batch (client
 * retries), so the expected persisted count is the unique count.
 *
 * Timed phase: `--clients` concurrent keep-alive fetch clients post the batches to POST /v1/events with the ingest
 * key (with `--sdk`: `--clients` @flywheel/sdk Node clients, each tracking a batch's events and waiting until the SDK
 * delivered them; see ./ingest/sdk-sender.ts). The clock starts at the first request and stops when the worker has
 * stored every unique event of the project (its flywheel_events_persisted_total, counted after each commit, polled
 * every 100 ms once the last batch is answered: it cannot be complete before; a count(*) of feedback_events polled
 * as often took PostgreSQL CPU from the run it measured). After the clock, `feedback_events` must hold exactly them.
 *   eventsPerSec = unique events / (first request → all persisted)
 *   acceptPerSec = events answered 202 / (first request → last 202)
 * Ceiling, same run, same database: the persisted rows are read back with COPY TO and written with COPY FROM into a
 * scratch table created LIKE feedback_events INCLUDING ALL (logged, same primary key (project_id, event_id) and
 * the same secondary indexes) — copyCeilingPerSec; ratio = eventsPerSec / copyCeilingPerSec. For the profile it also
 * times the worker's own event INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING alone, in batches of the worker's
 * mean batch size, into another such table ("insert-only").
 *
 * Where the time goes: the worker's /metrics (mean batch size, mean transaction time), the api's server-side
 * latency, row versions written per table and WAL bytes per event, CPU seconds per process during the timed phase
 * (/proc, sampled twice a second so short-lived processes count; other processes on the machine are listed as the
 * noise they are), and with --profile a sampled CPU profile of the api and the worker (top packages and functions;
 * the .cpuprofile files, kept in a temporary directory, open in Chrome DevTools).
 *
 * The parts live in ./ingest/: args, traffic (generated up front), world (database, topics, apps), timed-run (the clock),
 * copy-ceiling, cpu (per-process accounting), cpu-profile (--profile) and report (the table and the JSON line).
 *
 * Prints a table, then as the last line one JSON object:
 * {"events", "eventsPerSec", "copyCeilingPerSec", "ratio", "p50Ms", "p99Ms", "acceptPerSec", "clients", "sender",
 *  "walBytesPerEvent" (cluster-wide LSN difference / events), "ownWalBytesPerEvent" (this database's records only,
 *  read back with pg_walinspect), "eventsTable"}.
 */
import { performance } from 'node:perf_hooks';
import { sleep } from '../support/harness';
import { parseArgs } from './ingest/args';
import { databaseWalBytes, measureCopyCeiling, measureInsertOnly } from './ingest/copy-ceiling';
import { ChildProfiles } from './ingest/cpu-profile';
import { printReport, readAppFigures, rowsWritten, summary } from './ingest/report';
import { sdkSender } from './ingest/sdk-sender';
import { runTimed } from './ingest/timed-run';
import { generateTraffic } from './ingest/traffic';
import { IngestWorld } from './ingest/world';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const profiles = new ChildProfiles(args.profile, args.childNodeOptions);
  const world = new IngestWorld(profiles);
  await world.checkInfrastructure();
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`bench:ingest: ${signal}, cleaning up`);
    void world.cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const generatedAt = performance.now();
    const traffic = generateTraffic(args);
    const generationSeconds = (performance.now() - generatedAt) / 1000;
    await world.start(traffic, args.eventsTable);

    const run = await runTimed(world, traffic, args, profiles, args.sdk ? sdkSender(world, args.clients) : undefined);
    const ownWalBytes = await databaseWalBytes(world.pg, run.walFrom, run.walTo);

    // After the clock: correctness first, then where the time went and the ceilings.
    await sleep(300);
    const persisted = await world.count('feedback_events');
    if (persisted !== run.expected) throw new Error(`feedback_events holds ${persisted} rows of the project; expected exactly ${run.expected}`);
    const counts = { persisted, signals: await world.count('video_user_signals') };
    const apps = await readAppFigures(world);
    const copy = await measureCopyCeiling(world.pg, world.project.projectId, run.expected);
    const insertBatch = Math.max(1, Math.round(Number.isFinite(apps.batchSizeMean) ? apps.batchSizeMean : 500));
    const insertSeconds = await measureInsertOnly(world.pg, world.project.projectId, insertBatch);
    await world.stopApps(); // their backends flush their statistics on exit
    await sleep(500);
    const tables = await rowsWritten(world.pg);

    const findings = { args, traffic, generationSeconds, world, profiles, run, ownWalBytes, counts, apps, copy, insertBatch, insertSeconds, tables };
    printReport(findings);
    await profiles.print();
    console.log('');
    console.log(JSON.stringify(summary(findings)));
  } finally {
    await world.cleanUp();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`bench:ingest failed: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
