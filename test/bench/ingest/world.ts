/*
 * The world bench:ingest runs in: a scratch database flywheel_bench_<random> (migrated here, dropped at the end), its
 * own topic prefix, a project with keys, the real built api and ingest-worker as child processes, the generations
 * registered and one warm-up event sent outside the clock.
 */
import { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import { Client } from 'pg';
import { FlywheelConfig } from '@flywheel/config';
import { CreatedProject, dropDatabase, migrate } from '@flywheel/database';
import { AppProcess, TestContext, outputOf, sleep } from '../../support/harness';
import { ChildProfiles } from './cpu-profile';
import { EventsTable, shapeEventsTable } from './events-table';
import { FEATURE_DIM, Traffic, wireEvent } from './traffic';

export class IngestWorld {
  readonly suffix = randomBytes(4).toString('hex');
  readonly ctx: TestContext;
  readonly config: FlywheelConfig;
  project!: CreatedProject;
  pg!: Client;
  api!: AppProcess;
  worker!: AppProcess;
  private readonly children: ChildProcess[] = [];
  private migrated = false;
  private cleaning: Promise<void> | null = null;

  constructor(private readonly profiles: ChildProfiles) {
    process.env.PGDATABASE = `flywheel_bench_${this.suffix}`;
    process.env.FLYWHEEL_TEST_RUN = 'bench';
    process.env.LOG_LEVEL ??= 'warn';
    this.ctx = new TestContext(`ingest-${this.suffix.slice(0, 4)}`);
    this.config = this.ctx.config;
  }

  /** POST headers with the project's ingest key. */
  get headers(): Record<string, string> {
    return { 'content-type': 'application/json', authorization: `Bearer ${this.project.ingestKey}` };
  }

  /** Stops with a message naming what to start when Kafka or PostgreSQL does not answer. */
  async checkInfrastructure(): Promise<void> {
    const answering = await Promise.all(this.config.kafka.brokers.map((b) => reachable(b)));
    if (!answering.some(Boolean)) {
      console.error(`bench:ingest: no Kafka broker answers at ${this.config.kafka.brokers.join(',')} (KAFKA_BROKERS).\n` +
        'Start the local infrastructure with `npm run infra:up` (or `bash deploy/kafka.sh start`), then run the benchmark again.');
      process.exit(1);
    }
    const { host, port } = this.config.database;
    if (!(await reachable(`${host}:${port}`))) {
      console.error(`bench:ingest: PostgreSQL does not answer at ${host}:${port}. Start it with \`npm run infra:up\`.`);
      process.exit(1);
    }
  }

  /** Database, topics, project, apps; then the generations registered and a warm-up event, all outside the clock. */
  async start(traffic: Traffic, eventsTable: EventsTable = 'daily'): Promise<void> {
    this.migrated = true; // from here on the database may exist
    await migrate(this.config.database);
    await this.ctx.setUp();
    this.project = await this.ctx.createProject(FEATURE_DIM, 'bench-ingest');
    const { host, port, user, password, name } = this.config.database;
    this.pg = new Client({ host, port, user, password, database: name, application_name: 'bench-ingest' });
    await this.pg.connect();
    await shapeEventsTable(this.pg, this.config.database, eventsTable);

    [this.worker, this.api] = await Promise.all([this.startApp('worker'), this.startApp('api')]);

    // Register the generations, so `choose` marks siblings passed over and rollups are attributed.
    for (const body of traffic.generationBodies) {
      const response = await fetch(`${this.api.url}/v1/generations`, { method: 'POST', headers: this.headers, body });
      if (response.status !== 202) throw new Error(`POST /v1/generations answered ${response.status}: ${await response.text()}`);
    }
    await this.waitUntil(() => this.count('generations'), traffic.videos.length, 60_000, 'generations persisted');
    // Warm the connections and the key cache with one tiny batch (its event is deleted, not counted).
    await postWithRetry(`${this.api.url}/v1/events`, this.headers, JSON.stringify({ events: [{ ...wireEvent(traffic.unique[0]), eventId: `warmup-${this.suffix}` }] }));
    await this.waitUntil(() => this.count('feedback_events'), 1, 30_000, 'warm-up event persisted');
    await this.pg.query('DELETE FROM feedback_events WHERE project_id = $1', [this.project.projectId]);
  }

  /** Rows of the project in a table. */
  async count(table: 'feedback_events' | 'generations' | 'video_user_signals'): Promise<number> {
    return Number((await this.pg.query(`SELECT count(*) FROM ${table} WHERE project_id = $1`, [this.project.projectId])).rows[0].count);
  }

  /** Polls `read` until it reaches `target`; fails when it has not moved for `stallMs` or the worker exited. */
  async waitUntil(read: () => Promise<number>, target: number, stallMs: number, what: string, everyMs = 100): Promise<void> {
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
        throw new Error(`waiting for ${what}: stuck at ${value} of ${target} for ${stallMs / 1000} s\n${outputOf(this.worker.child).slice(-4000)}`);
      }
      if (this.worker.child.exitCode !== null) throw new Error(`waiting for ${what}: process exited with ${this.worker.child.exitCode}\n${outputOf(this.worker.child).slice(-4000)}`);
      await sleep(everyMs);
    }
  }

  /** Stops the api and the worker (their backends flush their statistics on exit). */
  async stopApps(): Promise<void> {
    await Promise.all(this.children.map((child) => stopChild(child)));
  }

  /** Stops the apps, deletes the topics and drops the database; safe to call twice (a signal and the finally). */
  cleanUp(): Promise<void> {
    return (this.cleaning ??= (async () => {
      await this.stopApps();
      await this.pg?.end().catch(() => undefined);
      await this.ctx.tearDown().catch((e) => console.error(`bench:ingest: teardown: ${(e as Error).message}`));
      if (this.migrated) await dropDatabase(this.config.database).catch((e) => console.error(`bench:ingest: drop database: ${(e as Error).message}`));
    })());
  }

  private async startApp(app: 'api' | 'worker'): Promise<AppProcess> {
    const overrides = this.profiles.env(app);
    const started = app === 'api' ? await this.ctx.startApi(overrides) : await this.ctx.startWorker(overrides);
    this.children.push(started.child); // stopped by the clean-up, whatever happens next
    return started;
  }
}

/** Posts one batch; a client retries 503 (Kafka unavailable) and network errors, as the contract asks. */
export async function postWithRetry(url: string, headers: Record<string, string>, body: string): Promise<{ ms: number; attempts: number }> {
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

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

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
