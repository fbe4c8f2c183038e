/*
 * The timed phase of bench:ingest: `--clients` concurrent keep-alive clients send the batches. The clock starts at
 * the first request and stops when the worker has stored every unique event of the project (its
 * flywheel_events_persisted_total, polled every 100 ms once the last batch is answered: it cannot be complete
 * before). CPU per process and WAL are read around it.
 */
import { performance } from 'node:perf_hooks';
import { Args } from './args';
import { promValue, scrape } from './report';
import { walLsn, walPosition } from './copy-ceiling';
import { ChildProfiles } from './cpu-profile';
import { CpuSnapshot, ProcessSampler, cpuSnapshot, kafkaBrokerPid } from './cpu';
import { Traffic } from './traffic';
import { IngestWorld, postWithRetry } from './world';

/** Sends one POST body of events; resolves once it was accepted, with its latency and the attempts it took. */
export type SendBatch = (body: string) => Promise<{ ms: number; attempts: number }>;

/** The default sender: POST /v1/events with the ingest key over fetch (keep-alive). */
export function httpSender(world: IngestWorld): SendBatch {
  const url = `${world.api.url}/v1/events`;
  const headers = world.headers;
  return (body) => postWithRetry(url, headers, body);
}

export interface TimedRun {
  /** Unique events, the count feedback_events must reach. */
  expected: number;
  /** Seconds from the first request until every unique event was persisted. */
  elapsed: number;
  /** Seconds from the first request until the last one was answered. */
  httpSeconds: number;
  acceptedEvents: number;
  retries: number;
  /** Client-side latency per batch in ms, sorted. */
  latencies: number[];
  persistedAtAccept: number;
  cpuBefore: CpuSnapshot;
  cpuAfter: CpuSnapshot;
  kafkaPid: number | null;
  walBytes: number;
  /** The WAL positions around the timed phase (for databaseWalBytes). */
  walFrom: string;
  walTo: string;
}

export async function runTimed(world: IngestWorld, traffic: Traffic, args: Args, profiles: ChildProfiles, send: SendBatch = httpSender(world)): Promise<TimedRun> {
  const { api, worker, pg, config } = world;
  const kafkaPid = kafkaBrokerPid(config.kafka.brokers);
  await profiles.start();

  const walBefore = await walPosition(pg);
  const walFrom = await walLsn(pg);
  const cpuBefore = cpuSnapshot(api, worker, kafkaPid, config.database.name);
  const sampler = new ProcessSampler();
  const latencies: number[] = [];
  let next = 0;
  let acceptedEvents = 0;
  let retries = 0;
  const t0 = performance.now();
  const clientLoop = async () => {
    for (let i = next++; i < traffic.bodies.length; i = next++) {
      const outcome = await send(traffic.bodies[i]);
      latencies.push(outcome.ms);
      retries += outcome.attempts - 1;
      acceptedEvents += traffic.bodySizes[i];
    }
  };
  await Promise.all(Array.from({ length: args.clients }, clientLoop));
  const tAccepted = performance.now();
  // The worker's own count of events it stored (counted after each commit): polling it costs the system under test
  // nothing, where a count(*) of feedback_events every 100 ms took tens of ms of PostgreSQL CPU each time at 100k
  // events, on the cores the worker needs. The exact count(*) is checked once, after the clock (ingest.bench.ts).
  const persistedByWorker = async () => promValue(await scrape(`${world.worker.url}/metrics`), 'flywheel_events_persisted_total');
  const persistedAtAccept = await persistedByWorker();
  const expected = traffic.unique.length;
  await world.waitUntil(persistedByWorker, expected, 60_000, 'all events persisted', 100);
  const tDone = performance.now();
  const cpuAfter = cpuSnapshot(api, worker, kafkaPid, config.database.name, sampler.stop());
  const walBytes = (await walPosition(pg)) - walBefore;
  const walTo = await walLsn(pg);
  profiles.stop();

  latencies.sort((a, b) => a - b);
  return {
    expected, elapsed: (tDone - t0) / 1000, httpSeconds: (tAccepted - t0) / 1000, acceptedEvents, retries, latencies,
    persistedAtAccept, cpuBefore, cpuAfter, kafkaPid, walBytes, walFrom, walTo,
  };
}
