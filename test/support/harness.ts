import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { AddressInfo, createServer, Server, Socket, connect } from 'node:net';
import * as path from 'node:path';
import { TestDatabase, openTestDatabase } from '@flywheel/database/testing';
import { FlywheelConfig, loadConfig } from '@flywheel/config';
import { CreatedProject, ProjectsRepository, createProjectWithKeys } from '@flywheel/database';
import { Kafka, createKafka, deleteTopics, ensureTopics } from '@flywheel/kafka';
import { mulberry32 } from '@flywheel/random';

/** The repository root, from test/support (ts-jest) or dist/test/support (compiled benchmarks). */
export const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');

/** A test file's slice of the run: its own topic prefix, a database handle and helpers to start the real apps. */
export class TestContext {
  readonly prefix: string;
  readonly config: FlywheelConfig;
  readonly kafka: Kafka;
  db!: TestDatabase;
  private readonly children = new Set<ChildProcess>();

  /** `settings` override the environment for this context and every app it starts (e.g. another KAFKA_BROKERS). */
  constructor(name: string, private readonly settings: Record<string, string> = {}) {
    this.prefix = `t${process.env.FLYWHEEL_TEST_RUN ?? 'local'}-${name}-${randomBytes(2).toString('hex')}`;
    process.env.KAFKA_TOPIC_PREFIX = this.prefix;
    this.config = loadConfig({ ...process.env, ...settings });
    this.kafka = createKafka(this.config, `test-${name}`);
  }

  async setUp(): Promise<this> {
    await ensureTopics(this.kafka, this.prefix, this.config.kafka);
    this.db = await openTestDatabase(this.config.database, { poolSize: 4 });
    await this.abandonEarlierFilesWork();
    return this;
  }

  /**
   * Files run one after another (--runInBand) on one database, and the job queues are global: a set, training job,
   * publication or deletion an earlier file left queued (a 202 it never waited for, a trainer it stopped mid-build)
   * would be claimed by this file's trainer or `claimBuild` before its own work, and hold it up. Nothing of an
   * earlier file is still running when the next starts, so its leftovers are marked failed, saying why.
   */
  private async abandonEarlierFilesWork(): Promise<void> {
    const reason = 'left in the queue by an earlier test file';
    await this.db.query(`UPDATE preference_sets SET status = 'failed', error = $1 WHERE status IN ('queued', 'building')`, [reason]);
    await this.db.query(`UPDATE training_jobs SET status = 'failed', error = $1 WHERE status IN ('queued', 'running')`, [reason]);
    await this.db.query(`UPDATE preference_publications SET status = 'failed', error = $1 WHERE status IN ('queued', 'publishing')`, [reason]);
    await this.db.query(`UPDATE data_deletions SET status = 'failed', error = $1 WHERE status IN ('queued', 'running')`, [reason]);
  }

  async tearDown(): Promise<void> {
    await Promise.all([...this.children].map((child) => stop(child)));
    await this.db?.close();
    await deleteTopics(this.kafka, this.prefix).catch(() => undefined);
  }

  createProject(featureDim = 4, name = 'test', ratingDimensions?: string[]): Promise<CreatedProject> {
    return createProjectWithKeys(this.db.make(ProjectsRepository), name, featureDim, { ratingDimensions });
  }

  /** Environment for a child app: this run's database, this file's topics, plus overrides. */
  env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      FLYWHEEL_ENV: 'test',
      PGDATABASE: this.config.database.name,
      KAFKA_TOPIC_PREFIX: this.prefix,
      WORKER_GROUP_ID: `${this.prefix}-ingest`,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...this.settings,
      ...overrides,
    };
  }

  /** Starts the built ingest-worker (dist/) as a real process and waits until it consumes. */
  async startWorker(overrides: Record<string, string> = {}): Promise<AppProcess> {
    const metricsPort = await freePort();
    const child = this.spawnApp('apps/ingest-worker/src/main.js', { WORKER_METRICS_PORT: String(metricsPort), ...overrides });
    const url = `http://127.0.0.1:${metricsPort}`;
    await waitFor(async () => (await fetch(`${url}/health/ready`).catch(() => null))?.status === 200, 30000, 'ingest-worker ready', child);
    return { child, url };
  }

  /**
   * Starts the built trainer (serving the training queue) as a real process. It has no port to probe: this waits a
   * second and checks that it is still running; jobs it has not claimed yet simply stay queued until it does.
   */
  async startTrainer(overrides: Record<string, string> = {}): Promise<AppProcess> {
    const child = this.spawnApp('apps/trainer/src/main.js', { TRAINER_POLL_MS: '200', ...overrides });
    await sleep(1000);
    if (child.exitCode !== null) throw new Error(`trainer: process exited with ${child.exitCode}\n${outputOf(child)}`);
    return { child, url: '' };
  }

  /** Starts the built api as a real process on a free port (or `port`, to restart it where clients expect it). */
  async startApi(overrides: Record<string, string> = {}, port?: number): Promise<AppProcess> {
    port ??= await freePort();
    const child = this.spawnApp('apps/api/src/main.js', { PORT: String(port), ...overrides });
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/health/live`).catch(() => null))?.status === 200, 30000, 'api live', child);
    return { child, url };
  }

  async stopApp(app: AppProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stop(app.child, signal);
    this.children.delete(app.child);
  }

  async count(sql: string, params: unknown[] = []): Promise<number> {
    const [row] = await this.db.query(sql, params);
    return Number(Object.values(row)[0]);
  }

  private spawnApp(entry: string, overrides: Record<string, string>): ChildProcess {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', entry)], { env: this.env(overrides), stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    (child as ChildProcess & { output: string[] }).output = output;
    this.children.add(child);
    return child;
  }
}

export interface AppProcess {
  child: ChildProcess;
  url: string;
}

export function outputOf(child: ChildProcess): string {
  return ((child as ChildProcess & { output?: string[] }).output ?? []).join('');
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(timer);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    if (child && child.exitCode !== null) throw new Error(`${what}: process exited with ${child.exitCode}\n${outputOf(child)}`);
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${child ? `\n${outputOf(child)}` : ''}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function post(url: string, key: string | null, body: unknown, raw = false): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: raw ? (body as string) : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* keep the text */ }
  return { status: response.status, body: parsed, headers: response.headers };
}

export async function get(url: string, key: string | null): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/**
 * A TCP proxy in front of PostgreSQL that a test can cut and restore: the database "goes down" for whoever
 * connects through it, while the real server keeps running for everything else.
 */
export class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly targetHost: string, private readonly targetPort: number) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => { client.destroy(); upstream.destroy(); });
      }
      client.pipe(upstream).pipe(client);
    });
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Refuses new connections and resets the open ones. */
  async cut(): Promise<void> {
    const closed = this.server ? new Promise((resolve) => this.server!.close(resolve)) : Promise.resolve();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
    this.server = null;
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }
}

const KINDS = ['impression', 'play', 'like', 'share', 'favorite', 'download', 'complete', 'dislike', 'unlike', 'progress', 'rate', 'unfavorite'];

/**
 * Deterministic batches with realistic repetition: every 10th event repeats an event of the batch before (a client
 * retry), with identical content. Types cycle through toggles, watch time and ratings (overall and per dimension).
 */
export function feedbackBatch(tag: string, b: number, size: number, occurredAt = '2026-11-01T12:00:00.000Z') {
  const base = Date.parse(occurredAt);
  return Array.from({ length: size }, (_, i) => {
    const [bb, ii] = i % 10 === 9 && b > 0 ? [b - 1, i - 1] : [b, i];
    const type = KINDS[(bb + ii) % KINDS.length];
    return {
      eventId: `${tag}-${bb}-${ii}`, type, videoId: `v${ii % 50}`, userId: `u${bb % 7}`,
      occurredAt: new Date(base + (bb * 1000 + ii) * 1000).toISOString(),
      ...(type === 'progress' ? { watchMs: (ii * 337) % 9000, durationMs: 8000 } : {}),
      // Two ratings in three name a dimension (the project's defaults), so derived per-dimension sums are exercised too.
      ...(type === 'rate' ? { rating: 1 + ((bb + ii) % 5), ...(ii % 3 ? { dimension: ii % 3 === 1 ? 'visual_quality' : 'text_alignment' } : {}) } : {}),
    };
  });
}

/** Posts the batches with four concurrent clients; records the eventIds that got 202. */
export async function postAll(api: AppProcess, key: string, batches: Record<string, unknown>[][], accepted: Set<string>): Promise<void> {
  let next = 0;
  // As a real client does: a batch answered 503 (Kafka did not acknowledge within the api's deadline, as happens on a
  // loaded machine) or 429 is sent again with the same eventIds, a few times, so `accepted` is what a client that
  // retries gets acknowledged; whatever is still refused after that stays out of it.
  const client = async () => {
    while (next < batches.length) {
      const events = batches[next++];
      for (let attempt = 0; attempt < 5; attempt++) {
        const response = await post(`${api.url}/v1/events`, key, { events });
        if (response.status === 202) for (const e of events) accepted.add(e.eventId as string);
        if (response.status !== 503 && response.status !== 429) break;
        await sleep(200 * (attempt + 1));
      }
    }
  };
  await Promise.all([client(), client(), client(), client()]);
}

/** mulberry32 (libs/random): a small seeded PRNG, so fixtures and benchmark traffic are the same on every run. */
export const prng = mulberry32;

/** Any HTTP call: method, optional bearer token, JSON body and extra headers; the answer's status, JSON body, headers. */
export async function call(
  method: string, url: string, token: string | null, body?: unknown, headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* keep the text */ }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Every message of a topic from the beginning, read with kcat (a client other than the kafkajs that wrote it). */
export function readTopicWithKcat(broker: string, topic: string): { id: string; raw: string }[] {
  if (spawnSync('which', ['kcat']).status !== 0) execFileSync('bash', ['-c', 'apt-get install -y kcat >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y kcat >/dev/null 2>&1)']);
  const out = execFileSync('kcat', ['-b', broker, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\n'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  return out.trim().split('\n').filter(Boolean).map((raw) => ({ id: JSON.parse(raw).message_id as string, raw }));
}
