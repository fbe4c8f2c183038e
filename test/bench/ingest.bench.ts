/*
 * Ingest benchmark: `npm run bench:ingest -- [--events 200000] [--clients 8] [--batch-min 500] [--batch-max 1000]
 * [--dup-rate 0.01] [--seed 42] [--profile] [--child-node-options "<node flags for api and worker>"]`.
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
 * key. The clock starts at the first request and stops when `feedback_events` holds every unique event of the
 * project (polled every 100 ms once the last batch is answered: it cannot be complete before).
 *   eventsPerSec = unique events / (first request → all persisted)
 *   acceptPerSec = events answered 202 / (first request → last 202)
 * Ceiling, same run, same database: the persisted rows are read back with COPY TO and written with COPY FROM into a
 * scratch table created LIKE feedback_events INCLUDING ALL (logged, same primary key (project_id, event_id) and
 * the same secondary index) — copyCeilingPerSec; ratio = eventsPerSec / copyCeilingPerSec. For the profile it also
 * times the worker's own event INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING alone, in batches of the worker's
 * mean batch size, into another such table ("insert-only").
 *
 * Where the time goes: the worker's /metrics (mean batch size, mean transaction time), the api's server-side
 * latency, row versions written per table and WAL bytes per event, CPU seconds per process during the timed phase
 * (/proc, sampled twice a second so short-lived processes count; other processes on the machine are listed as the
 * noise they are), and with --profile a sampled CPU profile of the api and the worker (top packages and functions;
 * the .cpuprofile files, kept in a temporary directory, open in Chrome DevTools).
 *
 * Prints a table, then as the last line one JSON object:
 * {"events", "eventsPerSec", "copyCeilingPerSec", "ratio", "p50Ms", "p99Ms", "acceptPerSec", "clients"}.
 */
import { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Query } from 'pg';
import { FlywheelConfig } from '@flywheel/config';
import { FeedbackEventInput } from '@flywheel/contracts';
import { dropDatabase, migrate } from '@flywheel/database';
import { AppProcess, TestContext, outputOf, prng, sleep } from '../support/harness';

// ───────────────────────────────────────────── arguments ─────────────────────────────────────────────

interface Args {
  events: number;
  clients: number;
  batchMin: number;
  batchMax: number;
  dupRate: number;
  seed: number;
  profile: boolean;
  /** Extra node flags for the api and worker children only, e.g. "--max-semi-space-size=32". */
  childNodeOptions: string;
}

function parseArgs(argv: string[]): Args {
  const value = (name: string, fallback: number, min: number): number => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const parsed = Number(argv[i + 1]);
    if (!Number.isFinite(parsed) || parsed < min) throw new Error(`--${name} needs a number ≥ ${min}`);
    return parsed;
  };
  const args: Args = {
    events: Math.round(value('events', 200_000, 1000)),
    clients: Math.round(value('clients', 8, 1)),
    batchMin: Math.round(value('batch-min', 500, 1)),
    batchMax: Math.round(value('batch-max', 1000, 1)),
    dupRate: value('dup-rate', 0.01, 0),
    seed: Math.round(value('seed', 42, 0)),
    profile: argv.includes('--profile'),
    childNodeOptions: argv.includes('--child-node-options') ? argv[argv.indexOf('--child-node-options') + 1] ?? '' : '',
  };
  if (args.batchMax > 1000 || args.batchMin > args.batchMax) throw new Error('need --batch-min ≤ --batch-max ≤ 1000');
  return args;
}

// ───────────────────────────────────────────── traffic ─────────────────────────────────────────────


/** Picks indices with Zipf-like weights 1/(rank+1)^s: a few popular videos, a long tail. */
function zipfPicker(n: number, s: number, rand: () => number): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cumulative[i] = sum += 1 / Math.pow(i + 1, s);
  return () => {
    const x = rand() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface Video {
  videoId: string;
  requestId: string;
  durationMs: number;
}

type BenchEvent = FeedbackEventInput;

interface Traffic {
  videos: Video[];
  users: number;
  generationBodies: string[];
  /** Unique events, in time order. */
  unique: BenchEvent[];
  /** JSON bodies of POST /v1/events, in sending order, and the number of events in each. */
  bodies: string[];
  bodySizes: number[];
  duplicates: number;
  typeCounts: Map<string, number>;
}

const CATEGORIES = ['portrait', 'landscape', 'product', 'anime', 'food', 'sports', 'travel', 'pets'];
const SEGMENTS = ['new', 'casual', 'creator', 'pro'];
const DIMENSIONS = ['visual_quality', 'motion_quality', 'text_alignment'];
const FEATURE_DIM = 16;

function generateTraffic(args: Args): Traffic {
  const rand = prng(args.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const run = randomBytes(3).toString('hex');

  // A few thousand videos, generated 2–4 candidates per request, 5–60 s long.
  const videoCount = Math.min(5000, Math.max(300, Math.round(args.events / 50)));
  const userCount = Math.min(8000, Math.max(300, Math.round(args.events / 35)));
  const videos: Video[] = [];
  const generations: Record<string, unknown>[] = [];
  const createdAt = new Date(Date.now() - 3 * 3600_000).toISOString();
  for (let r = 0; videos.length < videoCount; r++) {
    const requestId = `req_${run}_${r}`;
    const prompt = `a ${CATEGORIES[r % CATEGORIES.length]} clip, take ${r % 97}, cinematic lighting`;
    const modelVersion = rand() < 0.5 ? '1.2.0' : '1.3.0';
    const category = CATEGORIES[int(0, CATEGORIES.length - 1)];
    const segment = SEGMENTS[int(0, SEGMENTS.length - 1)];
    for (let c = int(2, 4); c > 0 && videos.length < videoCount; c--) {
      const video = { videoId: `vid_${run}_${videos.length}`, requestId, durationMs: 1000 * Math.round(5 + 55 * rand() * rand()) };
      videos.push(video);
      generations.push({
        videoId: video.videoId, requestId, prompt, model: 'seedance', modelVersion, category, segment,
        durationMs: video.durationMs, features: Array.from({ length: FEATURE_DIM }, () => Math.round((rand() * 2 - 1) * 1e4) / 1e4),
        createdAt,
      });
    }
  }
  const generationBodies: string[] = [];
  for (let i = 0; i < generations.length; i += 1000) generationBodies.push(JSON.stringify({ generations: generations.slice(i, i + 1000) }));

  // Episodes: one user meeting one video, spread over the last two hours.
  const pickVideo = zipfPicker(videoCount, 0.8, rand);
  const pickUser = zipfPicker(userCount, 0.6, rand);
  const windowStart = Date.now() - 2 * 3600_000;
  const unique: (BenchEvent & { at: number })[] = [];
  const typeCounts = new Map<string, number>();
  while (unique.length < args.events) {
    const video = videos[pickVideo()];
    const user = pickUser();
    const t0 = windowStart + Math.floor(rand() * 2 * 3600_000 - 120_000);
    const sessionId = `sess_${run}_${user}_${Math.floor((t0 - windowStart) / 1_200_000)}`;
    let t = t0;
    const emit = (type: BenchEvent['type'], extra: Partial<BenchEvent> = {}, afterMs = 300) => {
      t += afterMs;
      unique.push({ eventId: randomUUID(), type, videoId: video.videoId, userId: `user_${user}`, occurredAt: '', at: t, sessionId, ...extra });
    };
    emit('impression');
    if (rand() < 0.62) {
      emit('play', {}, 500 + int(0, 1500));
      const completes = rand() < 0.35;
      const fraction = completes ? 1 : Math.min(0.97, 0.05 + 0.9 * Math.pow(rand(), 1.4));
      // Players report progress when the viewer leaves or scrolls on (not on every play), sometimes mid-way too.
      const steps = rand() < 0.75 ? 1 + (rand() < 0.25 ? 1 : 0) : 0;
      for (let s = 1; s <= steps; s++) {
        const watchMs = Math.round((video.durationMs * fraction * s) / steps);
        emit('progress', { watchMs, durationMs: video.durationMs }, Math.round((video.durationMs * fraction) / steps));
      }
      if (completes) emit('complete', { durationMs: video.durationMs }, 50);
      if (rand() < 0.09) {
        emit('like', {}, int(200, 3000));
        if (rand() < 0.08) emit('unlike', {}, int(500, 5000));
      }
      if (rand() < 0.03) {
        emit('favorite', {}, int(200, 3000));
        if (rand() < 0.05) emit('unfavorite', {}, int(500, 5000));
      }
      if (rand() < 0.02) emit('share', {}, int(500, 5000));
      if (rand() < 0.025) emit('download', {}, int(500, 5000));
      if (rand() < 0.015) emit('export', {}, int(1000, 20000));
      if (rand() < 0.01) emit('comment', {}, int(2000, 20000));
      if (rand() < 0.03) {
        const rating = Math.max(1, Math.min(5, Math.round(3.4 + 1.2 * (rand() + rand() - 1) * 2)));
        emit('rate', rand() < 0.5 ? { rating } : { rating, dimension: DIMENSIONS[int(0, DIMENSIONS.length - 1)] }, int(500, 5000));
      }
      if (rand() < 0.04) emit('choose', { requestId: video.requestId }, int(500, 5000));
      if (rand() < 0.03) emit('regenerate', { requestId: video.requestId }, int(500, 5000));
      if (rand() < 0.02) emit('discard', {}, int(500, 5000));
    }
    if (rand() < 0.02) emit('dislike', {}, int(200, 2000));
    if (rand() < 0.002) emit('report', {}, int(1000, 10000));
  }
  unique.length = args.events;
  unique.sort((a, b) => a.at - b.at);
  for (const e of unique) {
    e.occurredAt = new Date(e.at).toISOString();
    typeCounts.set(e.type, (typeCounts.get(e.type) ?? 0) + 1);
  }

  // Client retries: some events are sent again, a few batches later.
  const retried: { position: number; event: BenchEvent }[] = [];
  for (let i = 0; i < unique.length; i++) {
    if (rand() < args.dupRate) retried.push({ position: Math.min(unique.length, i + int(1000, 20000)), event: unique[i] });
  }
  retried.sort((a, b) => a.position - b.position);
  const sending: BenchEvent[] = [];
  for (let i = 0, r = 0; i <= unique.length; i++) {
    while (r < retried.length && retried[r].position === i) sending.push(retried[r++].event);
    if (i < unique.length) sending.push(unique[i]);
  }
  const bodies: string[] = [];
  const bodySizes: number[] = [];
  const wire = ({ at: _at, ...e }: BenchEvent & { at?: number }) => e;
  for (let i = 0; i < sending.length;) {
    const size = Math.min(int(args.batchMin, args.batchMax), sending.length - i);
    bodies.push(JSON.stringify({ events: sending.slice(i, i + size).map(wire) }));
    bodySizes.push(size);
    i += size;
  }
  return { videos, users: userCount, generationBodies, unique, bodies, bodySizes, duplicates: retried.length, typeCounts };
}

// ───────────────────────────────────────────── measurement helpers ─────────────────────────────────────────────

function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Sum and count of a Prometheus histogram or counter in a /metrics text, optionally filtered by a label substring. */
function promValue(text: string, name: string, labelFilter = ''): number {
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

async function scrape(url: string): Promise<string> {
  const response = await fetch(url).catch(() => null);
  return response && response.ok ? response.text() : '';
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) of a process from /proc, or 0 when it is gone. */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

function processesNamed(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) pids.push(Number(entry));
    } catch { /* exited */ }
  }
  return pids;
}

/** The local Kafka broker's JVM: a `kafka.Kafka` java process whose server.properties listens on the broker port. */
function kafkaBrokerPid(brokers: string[]): number | null {
  const ports = new Set(brokers.filter((b) => /^(127\.0\.0\.1|localhost):/.test(b)).map((b) => b.split(':')[1]));
  for (const pid of processesNamed('java')) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (!argv.includes('kafka.Kafka')) continue;
      const properties = readFileSync(argv[argv.length - 1], 'utf8');
      const listeners = /^listeners=(.*)$/m.exec(properties)?.[1] ?? '';
      if ([...ports].some((port) => listeners.includes(`:${port},`) || listeners.endsWith(`:${port}`))) return pid;
    } catch { /* not readable */ }
  }
  return null;
}

/**
 * CPU seconds of the whole machine (all cores) from /proc/stat: busy (user, nice, system, irq, softirq), steal (taken
 * by the hypervisor for other guests), and the total including idle and iowait.
 */
function machineCpuSeconds(): { busy: number; steal: number; total: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return {
    busy: (user + nice + system + irq + softirq) / CLOCK_TICKS,
    steal: steal / CLOCK_TICKS,
    total: (user + nice + system + idle + iowait + irq + softirq + steal) / CLOCK_TICKS,
  };
}

/** CPU seconds of every process on the machine, by pid, with a short label and its full command line. */
function allProcessesCpu(): Map<number, { label: string; cmdline: string; seconds: number }> {
  const result = new Map<number, { label: string; cmdline: string; seconds: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const label = argv.length ? `${comm}: ${argv.slice(1).map((a) => a.replace(/^.*\//, '')).join(' ')}`.slice(0, 80) : `[${comm}]`;
      result.set(pid, { label, cmdline: argv.join(' '), seconds: processCpuSeconds(pid) });
    } catch { /* exited */ }
  }
  return result;
}

interface CpuSnapshot {
  bench: number;
  api: number;
  worker: number;
  /** Backends (and autovacuum workers) of the benchmark's database. */
  postgres: number;
  /** The cluster's shared processes: postmaster, WAL writer, checkpointer, background writer, launchers. */
  postgresShared: number;
  kafka: number;
  machine: { busy: number; steal: number; total: number };
  all: Map<number, { label: string; cmdline: string; seconds: number }>;
}

type PostgresRole = 'bench' | 'shared' | 'other';

/** Which PostgreSQL processes work for the benchmark's database, which for the whole cluster, which for others. */
function postgresRole(cmdline: string, database: string): PostgresRole {
  if (` ${cmdline} `.includes(` ${database} `)) return 'bench';
  if (!cmdline.includes('(') && !cmdline.includes('autovacuum worker')) return 'shared';
  return 'other';
}

/**
 * Samples every process twice a second during the timed phase, so processes that start and exit inside it
 * (autovacuum workers, compilers someone else runs, …) are still accounted for with their last reading.
 */
class ProcessSampler {
  readonly seen = new Map<number, { label: string; cmdline: string; seconds: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 500) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Stops sampling; returns the last reading of every process seen (the current one for those still running). */
  stop(): Map<number, { label: string; cmdline: string; seconds: number }> {
    clearInterval(this.timer);
    this.sample();
    return this.seen;
  }

  private sample(): void {
    for (const [pid, reading] of allProcessesCpu()) this.seen.set(pid, reading);
  }
}

function cpuSnapshot(
  api: AppProcess, worker: AppProcess, kafkaPid: number | null, database: string,
  all = allProcessesCpu(),
): CpuSnapshot {
  const own = process.cpuUsage();
  const postgres = (role: PostgresRole) => [...all.values()]
    .filter((p) => p.label.startsWith('postgres') && postgresRole(p.cmdline, database) === role)
    .reduce((sum, p) => sum + p.seconds, 0);
  return {
    bench: (own.user + own.system) / 1e6,
    api: all.get(api.child.pid!)?.seconds ?? 0,
    worker: all.get(worker.child.pid!)?.seconds ?? 0,
    postgres: postgres('bench'),
    postgresShared: postgres('shared'),
    kafka: kafkaPid === null ? NaN : all.get(kafkaPid)?.seconds ?? 0,
    machine: machineCpuSeconds(),
    all,
  };
}

// ───────────────────────────────────────────── COPY over pg's protocol ─────────────────────────────────────────────

/*
 * pg speaks the COPY sub-protocol but only pg-copy-streams (not installed here) exposes it; these two submittables
 * drive the same messages through pg's own hooks (handleCopyInResponse / handleCopyData of its Query).
 */
interface PgConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

interface PgQueryHooks {
  handleCopyInResponse(connection: PgConnection): void;
  handleCopyData(message: { chunk: Buffer }, connection: PgConnection): void;
}

const PgQuery = Query as unknown as new (text: string) => PgQueryHooks;

class CopyFromChunks extends PgQuery {
  constructor(text: string, private readonly chunks: Buffer[]) {
    super(text);
  }

  override handleCopyInResponse(connection: PgConnection): void {
    for (const chunk of this.chunks) connection.sendCopyFromChunk(chunk);
    connection.endCopyFrom();
  }
}

class CopyToChunks extends PgQuery {
  readonly chunks: Buffer[] = [];

  override handleCopyData(message: { chunk: Buffer }): void {
    this.chunks.push(Buffer.from(message.chunk)); // the parser's buffer is reused
  }
}

function submit(client: Client, query: object): Promise<{ rowCount: number | null }> {
  return new Promise((resolve, reject) => {
    (client.query as unknown as (q: object, cb: (e: Error | null, r: { rowCount: number | null }) => void) => void)
      .call(client, query, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** Regroups COPY rows into ~64 KiB CopyData messages, as a streaming client would send them. */
function rechunk(rows: Buffer[], size = 64 * 1024): Buffer[] {
  const out: Buffer[] = [];
  let pending: Buffer[] = [];
  let length = 0;
  for (const row of rows) {
    pending.push(row);
    length += row.length;
    if (length >= size) {
      out.push(Buffer.concat(pending, length));
      pending = [];
      length = 0;
    }
  }
  if (length) out.push(Buffer.concat(pending, length));
  return out;
}

const EVENT_COLUMNS = 'project_id, event_id, type, video_id, user_hash, occurred_at, received_at, session_id, request_id, watch_ms, duration_ms, rating, dimension';

// ───────────────────────────────────────────── CPU profiles ─────────────────────────────────────────────

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  startTime: number;
  endTime: number;
}

/** Where a profile node's code lives: an npm package, a file of ours, a node built-in, or a V8 pseudo-frame. */
function codeOwner(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 14).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `flywheel ${url.slice(dist + 6).replace(/\.js$/, '')}`;
  return url;
}

function summariseProfile(file: string, top: number): { owners: [string, number][]; functions: [string, number][]; seconds: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const id of profile.samples) {
    const frame = byId.get(id)!;
    const owner = codeOwner(frame.url, frame.functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + 1);
    const fn = frame.url ? `${frame.functionName || '(anonymous)'}  ${owner}:${frame.lineNumber + 1}` : owner;
    functions.set(fn, (functions.get(fn) ?? 0) + 1);
  }
  const n = profile.samples.length || 1;
  const rank = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, v / n] as [string, number]);
  return { owners: rank(owners), functions: rank(functions), seconds: (profile.endTime - profile.startTime) / 1e6 };
}

// ───────────────────────────────────────────── output ─────────────────────────────────────────────

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');

function printTable(title: string, rows: [string, string, string?][]): void {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`\n${title}`);
  console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}`);
  for (const [label, value, note] of rows) console.log(`${label.padEnd(w0)}  ${value.padStart(w1)}${note ? `  ${note}` : ''}`);
}

// ───────────────────────────────────────────── the run ─────────────────────────────────────────────

async function reachable(hostPort: string, timeoutMs = 2000): Promise<boolean> {
  const [host, port] = [hostPort.slice(0, hostPort.lastIndexOf(':')), Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function checkInfrastructure(config: FlywheelConfig): Promise<void> {
  const answering = await Promise.all(config.kafka.brokers.map((b) => reachable(b)));
  if (!answering.some(Boolean)) {
    console.error(`bench:ingest: no Kafka broker answers at ${config.kafka.brokers.join(',')} (KAFKA_BROKERS).\n` +
      'Start the local infrastructure with `npm run infra:up` (or `bash deploy/kafka.sh start`), then run the benchmark again.');
    process.exit(1);
  }
  const { host, port } = config.database;
  if (!(await reachable(`${host}:${port}`))) {
    console.error(`bench:ingest: PostgreSQL does not answer at ${host}:${port}. Start it with \`npm run infra:up\`.`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const suffix = randomBytes(4).toString('hex');
  process.env.PGDATABASE = `flywheel_bench_${suffix}`;
  process.env.FLYWHEEL_TEST_RUN = 'bench';
  process.env.LOG_LEVEL ??= 'warn';
  const ctx = new TestContext(`ingest-${suffix.slice(0, 4)}`);
  const config = ctx.config;
  await checkInfrastructure(config);

  const profileDir = args.profile ? mkdtempSync(path.join(tmpdir(), 'flywheel-bench-ingest-')) : '';
  const preload = path.join(__dirname, 'cpu-profile.preload.js');
  const childNodeOptions = `${process.env.NODE_OPTIONS ?? ''} ${args.childNodeOptions}`.trim();
  const profiled = (name: string): Record<string, string> => ({
    ...(childNodeOptions ? { NODE_OPTIONS: childNodeOptions } : {}),
    ...(args.profile ? {
      NODE_OPTIONS: `${childNodeOptions} --require ${preload}`.trim(),
      FLYWHEEL_BENCH_CPU_PROFILE: path.join(profileDir, `${name}.cpuprofile`),
    } : {}),
  });

  let pg: Client | null = null;
  const children: ChildProcess[] = [];
  let migrated = false;
  let cleaning: Promise<void> | null = null;
  const cleanUp = () => (cleaning ??= (async () => {
    await Promise.all(children.map((child) => stopChild(child)));
    await pg?.end().catch(() => undefined);
    await ctx.tearDown().catch((e) => console.error(`bench:ingest: teardown: ${(e as Error).message}`));
    if (migrated) await dropDatabase(config.database).catch((e) => console.error(`bench:ingest: drop database: ${(e as Error).message}`));
  })());
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`bench:ingest: ${signal}, cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // ── world ──
    const generatedAt = performance.now();
    const traffic = generateTraffic(args);
    const generationSeconds = (performance.now() - generatedAt) / 1000;
    migrated = true; // from here on the database may exist
    await migrate(config.database);
    await ctx.setUp();
    const project = await ctx.createProject(FEATURE_DIM, 'bench-ingest');
    pg = new Client({ host: config.database.host, port: config.database.port, user: config.database.user, password: config.database.password, database: config.database.name, application_name: 'bench-ingest' });
    await pg.connect();
    const count = async (sql: string) => Number((await pg!.query(sql, [project.projectId])).rows[0].count);

    const [worker, api] = await Promise.all([startApp(ctx, 'worker', profiled('worker'), children), startApp(ctx, 'api', profiled('api'), children)]);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${project.ingestKey}` };

    // Register the generations (not timed), so `choose` marks siblings passed over and rollups are attributed.
    for (const body of traffic.generationBodies) {
      const response = await fetch(`${api.url}/v1/generations`, { method: 'POST', headers, body });
      if (response.status !== 202) throw new Error(`POST /v1/generations answered ${response.status}: ${await response.text()}`);
    }
    await waitUntil(() => count('SELECT count(*) FROM generations WHERE project_id = $1'), traffic.videos.length, 60_000, 'generations persisted', worker);
    // Warm the connections and the key cache with one tiny batch outside the clock (its event is not counted).
    await postWithRetry(`${api.url}/v1/events`, headers, JSON.stringify({ events: [{ ...wireEvent(traffic.unique[0]), eventId: `warmup-${suffix}` }] }));
    await waitUntil(() => count('SELECT count(*) FROM feedback_events WHERE project_id = $1'), 1, 30_000, 'warm-up event persisted', worker);
    await pg.query('DELETE FROM feedback_events WHERE project_id = $1', [project.projectId]);

    const kafkaPid = kafkaBrokerPid(config.kafka.brokers);
    if (args.profile) {
      for (const name of ['api', 'worker']) writeFileSync(path.join(profileDir, `${name}.cpuprofile.start`), '');
      await sleep(200);
    }

    // ── timed phase ──
    const walBefore = await walPosition(pg);
    const cpuBefore = cpuSnapshot(api, worker, kafkaPid, config.database.name);
    const sampler = new ProcessSampler();
    const latencies: number[] = [];
    let next = 0;
    let acceptedEvents = 0;
    let retries = 0;
    const t0 = performance.now();
    const clientLoop = async () => {
      for (let i = next++; i < traffic.bodies.length; i = next++) {
        const outcome = await postWithRetry(`${api.url}/v1/events`, headers, traffic.bodies[i]);
        latencies.push(outcome.ms);
        retries += outcome.attempts - 1;
        acceptedEvents += traffic.bodySizes[i];
      }
    };
    await Promise.all(Array.from({ length: args.clients }, clientLoop));
    const tAccepted = performance.now();
    const persistedAtAccept = await count('SELECT count(*) FROM feedback_events WHERE project_id = $1');
    const expected = traffic.unique.length;
    await waitUntil(() => count('SELECT count(*) FROM feedback_events WHERE project_id = $1'), expected, 60_000, 'all events persisted', worker, 100);
    const tDone = performance.now();
    const cpuAfter = cpuSnapshot(api, worker, kafkaPid, config.database.name, sampler.stop());
    const walTimed = (await walPosition(pg)) - walBefore;
    if (args.profile) {
      for (const name of ['api', 'worker']) writeFileSync(path.join(profileDir, `${name}.cpuprofile.stop`), '');
    }

    const elapsed = (tDone - t0) / 1000;
    const httpSeconds = (tAccepted - t0) / 1000;
    const eventsPerSec = expected / elapsed;
    const acceptPerSec = acceptedEvents / httpSeconds;
    latencies.sort((a, b) => a - b);
    const p50 = quantile(latencies, 0.5);
    const p99 = quantile(latencies, 0.99);

    // ── after the clock: correctness, metrics, profiles ──
    await sleep(300);
    const persisted = await count('SELECT count(*) FROM feedback_events WHERE project_id = $1');
    if (persisted !== expected) throw new Error(`feedback_events holds ${persisted} rows of the project; expected exactly ${expected}`);
    const signals = await count('SELECT count(*) FROM video_user_signals WHERE project_id = $1');
    const workerMetrics = await scrape(`${worker.url}/metrics`);
    const apiMetrics = await scrape(`${api.url}/metrics`);
    const batchCount = promValue(workerMetrics, 'flywheel_batch_size_count');
    const batchSizeMean = promValue(workerMetrics, 'flywheel_batch_size_sum') / batchCount;
    const txCount = promValue(workerMetrics, 'flywheel_batch_transaction_seconds_count');
    const txMeanMs = (1000 * promValue(workerMetrics, 'flywheel_batch_transaction_seconds_sum')) / txCount;
    const txTotal = promValue(workerMetrics, 'flywheel_batch_transaction_seconds_sum');
    const deduplicated = promValue(workerMetrics, 'flywheel_events_deduplicated_total');
    const workerRetries = promValue(workerMetrics, 'flywheel_batch_retries_total');
    const deadLettered = promValue(workerMetrics, 'flywheel_messages_dead_lettered_total');
    const routeFilter = 'route="/v1/events"';
    const serverMeanMs = (1000 * promValue(apiMetrics, 'flywheel_http_request_duration_seconds_sum', routeFilter)) /
      promValue(apiMetrics, 'flywheel_http_request_duration_seconds_count', routeFilter);

    // ── ceiling: the same rows, COPY into a table LIKE feedback_events (logged, same keys and indexes) ──
    const copyOut = new CopyToChunks(`COPY (SELECT ${EVENT_COLUMNS} FROM feedback_events WHERE project_id = '${project.projectId}') TO STDOUT`);
    await submit(pg, copyOut);
    const chunks = rechunk(copyOut.chunks);
    const copyBytes = chunks.reduce((s, c) => s + c.length, 0);
    await pg.query('CREATE TABLE bench_copy_ceiling (LIKE feedback_events INCLUDING ALL)');
    await pg.query('CHECKPOINT').catch(() => undefined); // start from a clean WAL position, as the timed phase did
    const walCopyBefore = await walPosition(pg);
    const c0 = performance.now();
    const copied = await submit(pg, new CopyFromChunks(`COPY bench_copy_ceiling (${EVENT_COLUMNS}) FROM STDIN`, chunks));
    const copySeconds = (performance.now() - c0) / 1000;
    const walCopy = (await walPosition(pg)) - walCopyBefore;
    if (copied.rowCount !== expected) throw new Error(`COPY wrote ${copied.rowCount} rows, expected ${expected}`);
    const copyCeilingPerSec = expected / copySeconds;

    // ── profile: the worker's event INSERT alone, in the worker's batch size, one connection ──
    const insertBatch = Math.max(1, Math.round(Number.isFinite(batchSizeMean) ? batchSizeMean : 500));
    const rows = (await pg.query(`SELECT ${EVENT_COLUMNS} FROM feedback_events WHERE project_id = $1`, [project.projectId])).rows;
    await pg.query('CREATE TABLE bench_insert_ceiling (LIKE feedback_events INCLUDING ALL)');
    const i0 = performance.now();
    for (let i = 0; i < rows.length; i += insertBatch) {
      const slice = rows.slice(i, i + insertBatch);
      const col = (name: string) => slice.map((r) => r[name]);
      await pg.query(
        `INSERT INTO bench_insert_ceiling (${EVENT_COLUMNS})
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                              $7::timestamptz[], $8::text[], $9::text[], $10::float8[], $11::float8[], $12::int2[], $13::text[])
         ON CONFLICT (project_id, event_id) DO NOTHING
         RETURNING project_id, event_id`,
        EVENT_COLUMNS.split(', ').map(col),
      );
    }
    const insertSeconds = (performance.now() - i0) / 1000;

    // Row versions written per table: stop the apps first, so their backends flush their statistics on exit.
    await Promise.all(children.map((child) => stopChild(child)));
    await sleep(500);
    const tableStats: { relname: string; ins: string; upd: string; hot: string; del: string }[] = (await pg.query(
      `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot, n_tup_del AS del
         FROM pg_stat_user_tables WHERE relname IN ('feedback_events', 'video_user_signals', 'satisfaction_rollups')
        ORDER BY relname`)).rows;

    // ── report ──
    const cpu = (k: keyof Omit<CpuSnapshot, 'machine' | 'all'>) => cpuAfter[k] - cpuBefore[k];
    // Everything else that ran meanwhile (other apps, brokers, tests on the machine): the noise in the figure.
    const ours = new Set([api.child.pid, worker.child.pid, kafkaPid, process.pid]);
    const others = [...cpuAfter.all]
      .filter(([pid, p]) => !ours.has(pid) && !(p.label.startsWith('postgres') && postgresRole(p.cmdline, config.database.name) !== 'other'))
      .map(([pid, { label, seconds }]) => ({ pid, label, seconds: seconds - (cpuBefore.all.get(pid)?.seconds ?? 0) }))
      .filter((o) => o.seconds >= 0.05)
      .sort((a, b) => b.seconds - a.seconds);
    const othersTotal = others.reduce((sum, o) => sum + o.seconds, 0);
    const machineBusy = cpuAfter.machine.busy - cpuBefore.machine.busy;
    const machineSteal = cpuAfter.machine.steal - cpuBefore.machine.steal;
    const machineTotal = cpuAfter.machine.total - cpuBefore.machine.total;
    const share = (s: number): [string, string] => [`${fmt(s, 1)} s`, `${fmt((100 * s) / machineTotal, 0)}% of the ${fmt(machineTotal, 1)} core-seconds the machine had`];
    const sorted = [...traffic.typeCounts].sort((a, b) => b[1] - a[1]);
    const mix = sorted.map(([t, n]) => `${t} ${fmt((100 * n) / expected, 1)}%`).join(', ');

    printTable(`bench:ingest — ${fmt(expected)} events, ${args.clients} clients, node ${process.version}`, [
      ['world', `${traffic.videos.length} videos`, `${fmt(traffic.users)} users, ${traffic.generationBodies.length} generation batches registered first, db ${config.database.name}, topics ${ctx.prefix}.*`],
      ['children', 'api + ingest-worker', `built dist/ apps; NODE_OPTIONS "${childNodeOptions}"; worker partitions concurrently ${config.worker.partitionsConsumedConcurrently}, PG pool ${config.database.poolSize}${args.profile ? '; CPU-profiled' : ''}`],
      ['event mix', '', mix],
      ['batches posted', fmt(traffic.bodies.length), `${args.batchMin}–${args.batchMax} events each (mean ${fmt(acceptedEvents / traffic.bodies.length, 0)}), generated in ${fmt(generationSeconds, 1)} s untimed`],
      ['events posted', fmt(acceptedEvents), `${fmt(traffic.duplicates)} of them re-sent eventIds (${fmt(100 * args.dupRate, 1)}%)`],
      ['unique events persisted', fmt(persisted), `exactly the expected count; ${fmt(deduplicated)} deduplicated by the worker; ${fmt(signals)} (video,user) signal rows`],
      ['', ''],
      ['elapsed, accepted→persisted', `${fmt(elapsed, 2)} s`, 'first request → last unique event in feedback_events'],
      ['eventsPerSec (end to end)', fmt(eventsPerSec), 'target ≥ 20,000 on 2 cores'],
      ['HTTP phase', `${fmt(httpSeconds, 2)} s`, `${fmt((100 * persistedAtAccept) / expected, 1)}% persisted when the last batch was answered; ${fmt(elapsed - httpSeconds, 2)} s drain after it`],
      ['acceptPerSec (202 only)', fmt(acceptPerSec), `${retries} retried requests (503/network)`],
      ['HTTP latency p50 / p99', `${fmt(p50, 1)} / ${fmt(p99, 1)} ms`, `per batch, client side; max ${fmt(latencies[latencies.length - 1], 1)} ms; server-side mean ${fmt(serverMeanMs, 1)} ms`],
      ['', ''],
      ['copyCeilingPerSec', fmt(copyCeilingPerSec), `COPY FROM STDIN of the same ${fmt(expected)} rows (${fmt(copyBytes / 1e6, 1)} MB text) into a LOGGED table LIKE feedback_events INCLUDING ALL (PK (project_id, event_id) + video index): ${fmt(copySeconds, 2)} s`],
      ['ratio', fmt(eventsPerSec / copyCeilingPerSec, 3), 'eventsPerSec / copyCeilingPerSec'],
      ['insert-only (profile)', fmt(expected / insertSeconds), `the worker's INSERT … unnest … ON CONFLICT DO NOTHING RETURNING alone, ${insertBatch}-row batches, 1 connection: ${fmt(insertSeconds, 2)} s`],
      ['', ''],
      ['worker batches', fmt(batchCount), `mean batch size ${fmt(batchSizeMean, 0)} messages (flywheel_batch_size)`],
      ['worker mean transaction', `${fmt(txMeanMs, 1)} ms`, `flywheel_batch_transaction_seconds; sum ${fmt(txTotal, 2)} s over ${fmt(txCount)} event batches = ${fmt((1000 * txTotal) / Math.max(1, expected + deduplicated), 3)} ms/event`],
      ['worker retries / dead letters', `${fmt(workerRetries)} / ${fmt(deadLettered)}`],
      ...tableStats.map((t): [string, string, string] => [`rows written ${t.relname}`, fmt(Number(t.ins) + Number(t.upd)),
        `${fmt(Number(t.ins))} inserted + ${fmt(Number(t.upd))} updated (${fmt(Number(t.hot))} HOT), ${fmt(Number(t.del))} deleted; whole run incl. generations and warm-up`]),
      ['WAL written, timed phase', `${fmt(walTimed / 1e6, 1)} MB`, `${fmt(walTimed / expected, 0)} B/event (cluster-wide: other databases' writes count too); the COPY ceiling wrote ${fmt(walCopy / 1e6, 1)} MB = ${fmt(walCopy / expected, 0)} B/event`],
      ['', ''],
      ['CPU api', ...share(cpu('api'))],
      ['CPU ingest-worker', ...share(cpu('worker'))],
      ['CPU postgres, this database', ...share(cpu('postgres'))],
      ['CPU postgres, shared processes', ...share(cpu('postgresShared'))],
      ['CPU kafka broker', ...(kafkaPid === null ? [fmt(NaN), 'broker process not found locally'] as [string, string] : share(cpu('kafka')))],
      ['CPU bench (clients + polling)', ...share(cpu('bench'))],
      ['CPU other processes', ...share(othersTotal)],
      ...others.slice(0, 4).map((o): [string, string, string] => [`  pid ${o.pid}`, `${fmt(o.seconds, 1)} s`, o.label]),
      ['CPU machine busy', ...share(machineBusy)],
      ['CPU stolen by the hypervisor', ...share(machineSteal)],
      ['CPU not attributed to a process', ...share(machineBusy - cpu('api') - cpu('worker') - cpu('postgres') - cpu('postgresShared') - (Number.isFinite(cpu('kafka')) ? cpu('kafka') : 0) - cpu('bench') - othersTotal)],
    ]);

    if (args.profile) {
      for (const name of ['api', 'worker']) {
        const file = path.join(profileDir, `${name}.cpuprofile`);
        await waitForFile(file, 15_000);
        const summary = summariseProfile(file, 15);
        printTable(`CPU profile of the ${name} during the timed phase (${fmt(summary.seconds, 1)} s wall; self time by owner) — ${file}`,
          summary.owners.map(([owner, f]) => [owner, `${fmt(100 * f, 1)}%`]));
        printTable(`top self-time functions of the ${name}`, summary.functions.map(([fn, f]) => [fn, `${fmt(100 * f, 1)}%`]));
      }
    }

    console.log('');
    console.log(JSON.stringify({
      events: expected,
      eventsPerSec: Math.round(eventsPerSec),
      copyCeilingPerSec: Math.round(copyCeilingPerSec),
      ratio: Math.round((eventsPerSec / copyCeilingPerSec) * 1000) / 1000,
      p50Ms: Math.round(p50 * 10) / 10,
      p99Ms: Math.round(p99 * 10) / 10,
      acceptPerSec: Math.round(acceptPerSec),
      clients: args.clients,
    }));
  } finally {
    await cleanUp();
  }
}


/** Starts a built app through the harness and remembers its process for the clean-up. */
async function startApp(ctx: TestContext, app: 'api' | 'worker', overrides: Record<string, string>, children: ChildProcess[]): Promise<AppProcess> {
  const started = app === 'api' ? await ctx.startApi(overrides) : await ctx.startWorker(overrides);
  children.push(started.child); // stopped by the clean-up, whatever happens next
  return started;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function walPosition(pg: Client): Promise<number> {
  return Number((await pg.query(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS lsn`)).rows[0].lsn);
}

function wireEvent({ at: _at, ...e }: BenchEvent & { at?: number }): BenchEvent {
  return e;
}

/** Posts one batch; a client retries 503 (Kafka unavailable) and network errors, as the contract asks. */
async function postWithRetry(url: string, headers: Record<string, string>, body: string): Promise<{ ms: number; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    const started = performance.now();
    let status = 0;
    let text = '';
    let retryAfter = 1;
    try {
      const response = await fetch(url, { method: 'POST', headers, body });
      status = response.status;
      text = await response.text();
      retryAfter = Number(response.headers.get('retry-after') ?? 1) || 1;
    } catch (error) {
      text = (error as Error).message;
    }
    if (status === 202) return { ms: performance.now() - started, attempts: attempt };
    if ((status !== 0 && status !== 503) || attempt >= 5) {
      throw new Error(`POST /v1/events answered ${status || 'a network error'} (attempt ${attempt}): ${text.slice(0, 500)}`);
    }
    await sleep(Math.min(5, retryAfter) * 1000);
  }
}

async function waitUntil(read: () => Promise<number>, target: number, stallMs: number, what: string, app: AppProcess, everyMs = 100): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const value = await read();
    if (value >= target) return;
    if (value !== last) {
      last = value;
      lastChange = Date.now();
    }
    if (Date.now() - lastChange > stallMs) {
      throw new Error(`waiting for ${what}: stuck at ${value} of ${target} for ${stallMs / 1000} s\n${outputOf(app.child).slice(-4000)}`);
    }
    if (app.child.exitCode !== null) throw new Error(`waiting for ${what}: process exited with ${app.child.exitCode}\n${outputOf(app.child).slice(-4000)}`);
    await sleep(everyMs);
  }
}

async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no CPU profile at ${file} after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`bench:ingest failed: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
