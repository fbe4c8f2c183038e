/*
 * What bench:ingest prints: where the time went (the worker's and the api's /metrics, row versions per table, WAL,
 * CPU per process), the table, and the last line of JSON
 * {"events", "eventsPerSec", "copyCeilingPerSec", "ratio", "p50Ms", "p99Ms", "acceptPerSec", "clients", "sender"}.
 */
import { Client } from 'pg';
import { Args } from './args';
import { CopyCeiling } from './copy-ceiling';
import { ChildProfiles } from './cpu-profile';
import { CpuSnapshot, postgresRole } from './cpu';
import { TimedRun } from './timed-run';
import { Traffic } from './traffic';
import { IngestWorld } from './world';

/** Figures the api and the worker report on their /metrics after the timed phase. */
export interface AppFigures {
  batchCount: number;
  batchSizeMean: number;
  txCount: number;
  txMeanMs: number;
  txTotal: number;
  deduplicated: number;
  workerRetries: number;
  deadLettered: number;
  serverMeanMs: number;
}

export async function readAppFigures(world: IngestWorld): Promise<AppFigures> {
  const workerMetrics = await scrape(`${world.worker.url}/metrics`);
  const apiMetrics = await scrape(`${world.api.url}/metrics`);
  const batchCount = promValue(workerMetrics, 'flywheel_batch_size_count');
  const txCount = promValue(workerMetrics, 'flywheel_batch_transaction_seconds_count');
  const txTotal = promValue(workerMetrics, 'flywheel_batch_transaction_seconds_sum');
  const routeFilter = 'route="/v1/events"';
  return {
    batchCount,
    batchSizeMean: promValue(workerMetrics, 'flywheel_batch_size_sum') / batchCount,
    txCount,
    txMeanMs: (1000 * txTotal) / txCount,
    txTotal,
    deduplicated: promValue(workerMetrics, 'flywheel_events_deduplicated_total'),
    workerRetries: promValue(workerMetrics, 'flywheel_batch_retries_total'),
    deadLettered: promValue(workerMetrics, 'flywheel_messages_dead_lettered_total'),
    serverMeanMs: (1000 * promValue(apiMetrics, 'flywheel_http_request_duration_seconds_sum', routeFilter)) /
      promValue(apiMetrics, 'flywheel_http_request_duration_seconds_count', routeFilter),
  };
}

export interface TableStat { relname: string; ins: string; upd: string; hot: string; del: string }

/** Row versions written per table over the whole run (read after the apps stopped, so their statistics are flushed). */
export async function rowsWritten(pg: Client): Promise<TableStat[]> {
  // feedback_events is partitioned: its partitions' counts are summed under its name.
  return (await pg.query(
    `SELECT CASE WHEN relname LIKE 'feedback\\_events\\_%' THEN 'feedback_events' ELSE relname END AS relname,
            sum(n_tup_ins)::int AS ins, sum(n_tup_upd)::int AS upd, sum(n_tup_hot_upd)::int AS hot, sum(n_tup_del)::int AS del
       FROM pg_stat_user_tables
      WHERE relname LIKE 'feedback\\_events%' OR relname IN ('video_user_signals', 'satisfaction_rollups', 'satisfaction_rollups_daily',
            'video_aggregates', 'user_aggregates', 'cluster_moments', 'dimension_rollups', 'dimension_video_aggregates',
            'dimension_user_aggregates', 'dimension_cluster_moments')
      GROUP BY 1 ORDER BY 1`)).rows;
}

export interface Findings {
  args: Args;
  traffic: Traffic;
  /** Seconds generateTraffic took (untimed). */
  generationSeconds: number;
  world: IngestWorld;
  profiles: ChildProfiles;
  run: TimedRun;
  /** WAL bytes of this database's records during the timed phase (NaN: not readable). */
  ownWalBytes: number;
  counts: { persisted: number; signals: number };
  apps: AppFigures;
  copy: CopyCeiling;
  insertBatch: number;
  insertSeconds: number;
  tables: TableStat[];
}

/** The summary JSON line, the benchmark's result. */
export function summary({ args, run, copy, ownWalBytes }: Findings): Record<string, number | string> {
  const eventsPerSec = run.expected / run.elapsed;
  return {
    events: run.expected,
    eventsPerSec: Math.round(eventsPerSec),
    copyCeilingPerSec: Math.round(copy.perSec),
    ratio: Math.round((eventsPerSec / copy.perSec) * 1000) / 1000,
    p50Ms: Math.round(quantile(run.latencies, 0.5) * 10) / 10,
    p99Ms: Math.round(quantile(run.latencies, 0.99) * 10) / 10,
    acceptPerSec: Math.round(run.acceptedEvents / run.httpSeconds),
    clients: args.clients,
    sender: args.sdk ? 'sdk' : 'http',
    walBytesPerEvent: Math.round(run.walBytes / run.expected),
    ownWalBytesPerEvent: Number.isFinite(ownWalBytes) ? Math.round(ownWalBytes / run.expected) : 'n/a',
    eventsTable: args.eventsTable,
  };
}

export function printReport(findings: Findings): void {
  const { args, traffic, generationSeconds, world, profiles, run, counts, apps, copy, insertBatch, insertSeconds, tables } = findings;
  const eventsPerSec = run.expected / run.elapsed;
  const acceptPerSec = run.acceptedEvents / run.httpSeconds;
  const p50 = quantile(run.latencies, 0.5);
  const p99 = quantile(run.latencies, 0.99);
  const cpu = (k: keyof Omit<CpuSnapshot, 'machine' | 'all'>) => run.cpuAfter[k] - run.cpuBefore[k];
  // Everything else that ran meanwhile (other apps, brokers, tests on the machine): the noise in the figure.
  const ours = new Set([world.api.child.pid, world.worker.child.pid, run.kafkaPid, process.pid]);
  const others = [...run.cpuAfter.all]
    .filter(([pid, p]) => !ours.has(pid) && !(p.label.startsWith('postgres') && postgresRole(p.cmdline, world.config.database.name) !== 'other'))
    .map(([pid, { label, seconds }]) => ({ pid, label, seconds: seconds - (run.cpuBefore.all.get(pid)?.seconds ?? 0) }))
    .filter((o) => o.seconds >= 0.05)
    .sort((a, b) => b.seconds - a.seconds);
  const othersTotal = others.reduce((sum, o) => sum + o.seconds, 0);
  const machineBusy = run.cpuAfter.machine.busy - run.cpuBefore.machine.busy;
  const machineSteal = run.cpuAfter.machine.steal - run.cpuBefore.machine.steal;
  const machineTotal = run.cpuAfter.machine.total - run.cpuBefore.machine.total;
  const share = (s: number): [string, string] => [`${fmt(s, 1)} s`, `${fmt((100 * s) / machineTotal, 0)}% of the ${fmt(machineTotal, 1)} core-seconds the machine had`];
  const sorted = [...traffic.typeCounts].sort((a, b) => b[1] - a[1]);
  const mix = sorted.map(([t, n]) => `${t} ${fmt((100 * n) / run.expected, 1)}%`).join(', ');

  printTable(`bench:ingest — ${fmt(run.expected)} events, ${args.clients} ${args.sdk ? '@flywheel/sdk' : 'HTTP'} clients, node ${process.version}`, [
    ['world', `${traffic.videos.length} videos`, `${fmt(traffic.users)} users, ${traffic.generationBodies.length} generation batches registered first, db ${world.config.database.name}, topics ${world.ctx.prefix}.*`],
    ['children', 'api + ingest-worker', `built dist/ apps; NODE_OPTIONS "${profiles.describeNodeOptions()}"; worker partitions concurrently ${world.config.worker.partitionsConsumedConcurrently}, PG pool ${world.config.database.poolSize}${args.profile ? '; CPU-profiled' : ''}`],
    ['event mix', '', mix],
    ['batches posted', fmt(traffic.bodies.length), `${args.batchMin}–${args.batchMax} events each (mean ${fmt(run.acceptedEvents / traffic.bodies.length, 0)}), generated in ${fmt(generationSeconds, 1)} s untimed`],
    ['events posted', fmt(run.acceptedEvents), `${fmt(traffic.duplicates)} of them re-sent eventIds (${fmt(100 * args.dupRate, 1)}%)`],
    ['unique events persisted', fmt(counts.persisted), `exactly the expected count; ${fmt(apps.deduplicated)} deduplicated by the worker; ${fmt(counts.signals)} (video,user) signal rows`],
    ['', ''],
    ['elapsed, accepted→persisted', `${fmt(run.elapsed, 2)} s`, 'first request → last unique event in feedback_events'],
    ['eventsPerSec (end to end)', fmt(eventsPerSec), 'target ≥ 20,000 on 2 cores'],
    ['HTTP phase', `${fmt(run.httpSeconds, 2)} s`, `${fmt((100 * run.persistedAtAccept) / run.expected, 1)}% persisted when the last batch was answered; ${fmt(run.elapsed - run.httpSeconds, 2)} s drain after it`],
    ['acceptPerSec (202 only)', fmt(acceptPerSec), `${run.retries} retried requests (503/network)`],
    ['HTTP latency p50 / p99', `${fmt(p50, 1)} / ${fmt(p99, 1)} ms`, `per batch, client side; max ${fmt(run.latencies[run.latencies.length - 1], 1)} ms; server-side mean ${fmt(apps.serverMeanMs, 1)} ms`],
    ['', ''],
    ['copyCeilingPerSec', fmt(copy.perSec), `COPY FROM STDIN of the same ${fmt(run.expected)} rows (${fmt(copy.bytes / 1e6, 1)} MB text) into a LOGGED table LIKE feedback_events INCLUDING ALL (same primary key and indexes): ${fmt(copy.seconds, 2)} s`],
    ['ratio', fmt(eventsPerSec / copy.perSec, 3), 'eventsPerSec / copyCeilingPerSec'],
    ['insert-only (profile)', fmt(run.expected / insertSeconds), `the worker's INSERT … unnest … ON CONFLICT DO NOTHING RETURNING alone, ${insertBatch}-row batches, 1 connection: ${fmt(insertSeconds, 2)} s`],
    ['', ''],
    ['worker batches', fmt(apps.batchCount), `mean batch size ${fmt(apps.batchSizeMean, 0)} messages (flywheel_batch_size)`],
    ['worker mean transaction', `${fmt(apps.txMeanMs, 1)} ms`, `flywheel_batch_transaction_seconds; sum ${fmt(apps.txTotal, 2)} s over ${fmt(apps.txCount)} event batches = ${fmt((1000 * apps.txTotal) / Math.max(1, run.expected + apps.deduplicated), 3)} ms/event`],
    ['worker run.retries / dead letters', `${fmt(apps.workerRetries)} / ${fmt(apps.deadLettered)}`],
    ...tables.map((t): [string, string, string] => [`rows written ${t.relname}`, fmt(Number(t.ins) + Number(t.upd)),
      `${fmt(Number(t.ins))} inserted + ${fmt(Number(t.upd))} updated (${fmt(Number(t.hot))} HOT), ${fmt(Number(t.del))} deleted; whole run incl. generations and warm-up`]),
    ['WAL written, timed phase', `${fmt(run.walBytes / 1e6, 1)} MB`, `${fmt(run.walBytes / run.expected, 0)} B/event (cluster-wide: other databases' writes count too; this database's records: ${fmt(findings.ownWalBytes / run.expected, 0)} B/event); the COPY ceiling wrote ${fmt(copy.walBytes / 1e6, 1)} MB = ${fmt(copy.walBytes / run.expected, 0)} B/event`],
    ['', ''],
    ['CPU api', ...share(cpu('api'))],
    ['CPU ingest-worker', ...share(cpu('worker'))],
    ['CPU postgres, this database', ...share(cpu('postgres'))],
    ['CPU postgres, shared processes', ...share(cpu('postgresShared'))],
    ['CPU kafka broker', ...(run.kafkaPid === null ? [fmt(NaN), 'broker process not found locally'] as [string, string] : share(cpu('kafka')))],
    ['CPU bench (clients + polling)', ...share(cpu('bench'))],
    ['CPU other processes', ...share(othersTotal)],
    ...others.slice(0, 4).map((o): [string, string, string] => [`  pid ${o.pid}`, `${fmt(o.seconds, 1)} s`, o.label]),
    ['CPU machine busy', ...share(machineBusy)],
    ['CPU stolen by the hypervisor', ...share(machineSteal)],
    ['CPU not attributed to a process', ...share(machineBusy - cpu('api') - cpu('worker') - cpu('postgres') - cpu('postgresShared') - (Number.isFinite(cpu('kafka')) ? cpu('kafka') : 0) - cpu('bench') - othersTotal)],
  ]);
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Sum and count of a Prometheus histogram or counter in a /metrics text, optionally filtered by a label substring. */
export function promValue(text: string, name: string, labelFilter = ''): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labelFilter && !rest.includes(labelFilter)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export async function scrape(url: string): Promise<string> {
  const response = await fetch(url).catch(() => null);
  return response && response.ok ? response.text() : '';
}

export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');

export function printTable(title: string, rows: [string, string, string?][]): void {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`\n${title}`);
  console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}`);
  for (const [label, value, note] of rows) console.log(`${label.padEnd(w0)}  ${value.padStart(w1)}${note ? `  ${note}` : ''}`);
}
