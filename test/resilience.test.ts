import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { CreatedProject } from '@flywheel/database';
import { AppProcess, CuttableProxy, ROOT, TestContext, feedbackBatch as batch, post, postAll, sleep, waitFor } from './support/harness';

describe('failure paths', () => {
  const ctx = new TestContext('resilience');
  let api: AppProcess;
  let project: CreatedProject;
  const stored = (projectId: string) => ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [projectId]);
  const signalEvents = (projectId: string) => ctx.count('SELECT coalesce(sum(event_count), 0) FROM video_user_signals WHERE project_id = $1', [projectId]);

  beforeAll(async () => {
    await ctx.setUp();
    project = await ctx.createProject(4);
    api = await ctx.startApi({ KAFKA_SEND_TIMEOUT_MS: '3000' });
  }, 60000);
  afterAll(() => ctx.tearDown(), 60000);

  it('loses nothing and stores nothing twice when the worker is SIGKILLed mid-stream', async () => {
    const p = await ctx.createProject(4);
    const batches = Array.from({ length: 60 }, (_, b) => batch('kill', b, 500));
    const accepted = new Set<string>();
    // Small fetches make many batches, so the kill lands between and inside transactions.
    const small = { WORKER_MAX_BYTES_PER_PARTITION: '16384' };
    let worker = await ctx.startWorker(small);
    const posting = postAll(api, p.ingestKey, batches, accepted);
    await waitFor(async () => (await stored(p.projectId)) > 2000, 60000, 'some events persisted');
    await ctx.stopApp(worker, 'SIGKILL');
    const atKill = await stored(p.projectId);
    await posting;
    expect(accepted.size).toBe(27050); // 60 × 500, less the 9 × 50 × 59 ids that repeat an earlier batch's
    expect(atKill).toBeLessThan(accepted.size);

    worker = await ctx.startWorker(small);
    await waitFor(async () => (await stored(p.projectId)) >= accepted.size, 90000, 'all accepted events persisted');
    await sleep(500);
    const rows: { event_id: string }[] = await ctx.db.query('SELECT event_id FROM feedback_events WHERE project_id = $1', [p.projectId]);
    expect(rows.length).toBe(accepted.size);
    expect(new Set(rows.map((r) => r.event_id))).toEqual(accepted);
    // Signal state counted every stored event exactly once, across the crash and the redelivery.
    await expect(signalEvents(p.projectId)).resolves.toBe(accepted.size);
    await ctx.stopApp(worker);
  }, 180000);

  const managedKafka = process.env.FLYWHEEL_TEST_KAFKA_MANAGED === '1';
  const kafka = (action: 'stop' | 'start') => execFileSync('bash', [path.join(ROOT, 'deploy/kafka.sh'), action], { stdio: 'ignore', env: process.env });
  it('answers 503 while Kafka is down and persists everything that got 202 once it is back', async () => {
    if (!managedKafka) throw new Error('run this through `npm test`: it stops and restarts the broker that deploy/test.sh started');
    const p = await ctx.createProject(4);
    const worker = await ctx.startWorker();
    const accepted = new Set<string>();
    const before = batch('outage', 0, 200);
    await expect(post(`${api.url}/v1/events`, p.ingestKey, { events: before })).resolves.toMatchObject({ status: 202 });
    before.forEach((e) => accepted.add(e.eventId));

    kafka('stop');
    try {
      const during = await post(`${api.url}/v1/events`, p.ingestKey, { events: batch('outage', 1, 200) });
      expect(during.status).toBe(503);
      expect(during.headers.get('retry-after')).toBe('5');
      expect(during.body.error.code).toBe('BROKER_UNAVAILABLE');
      const ready = await fetch(`${api.url}/health/ready`);
      expect(ready.status).toBe(503);
    } finally {
      kafka('start');
    }
    // A client retries what got 503; once the broker is back it is accepted.
    const retried = batch('outage', 1, 200);
    await waitFor(async () => (await post(`${api.url}/v1/events`, p.ingestKey, { events: retried })).status === 202, 60000, '202 after Kafka is back');
    retried.forEach((e) => accepted.add(e.eventId));
    await waitFor(async () => (await stored(p.projectId)) === accepted.size, 90000, 'accepted events persisted after the outage');
    await expect(signalEvents(p.projectId)).resolves.toBe(accepted.size);
    await ctx.stopApp(worker);
  }, 180000);

  it('keeps consuming after the database comes back, and the api answers 503 (not 500) without it', async () => {
    const p = await ctx.createProject(4);
    const proxy = new CuttableProxy(ctx.config.database.host, ctx.config.database.port);
    const pgPort = String(await proxy.start());
    const worker = await ctx.startWorker({ PGPORT: pgPort, WORKER_STALL_AFTER_MS: '1000' });
    const dbApi = await ctx.startApi({ PGPORT: pgPort, API_KEY_CACHE_TTL_MS: '600000' });
    const first = batch('dbdown', 0, 300);
    await expect(post(`${dbApi.url}/v1/events`, p.ingestKey, { events: first })).resolves.toMatchObject({ status: 202 });
    await waitFor(async () => (await stored(p.projectId)) === 300, 30000, 'first batch');

    await proxy.cut();
    // Ingestion does not need the database: a cached key still gets 202, and Kafka holds the events.
    const second = batch('dbdown', 1, 300);
    await expect(post(`${dbApi.url}/v1/events`, p.ingestKey, { events: second })).resolves.toMatchObject({ status: 202 });
    // A key the api has not seen needs the database: 503 with Retry-After, never 500.
    const unseen = await post(`${dbApi.url}/v1/events`, p.secretKey, { events: second });
    expect(unseen.status).toBe(503);
    expect(unseen.body.error.code).toBe('DATABASE_UNAVAILABLE');
    expect(unseen.headers.get('retry-after')).toBe('5');
    await sleep(3000); // the worker fails and retries its batch meanwhile
    expect(await stored(p.projectId)).toBe(300);
    // The partition holding the second batch does not advance: /health/ready names it, and so does the gauge.
    const events = `${ctx.prefix}.flywheel.events.v1`;
    let health: any = null;
    await waitFor(async () => {
      const response = await fetch(`${worker.url}/health/ready`);
      health = { status: response.status, body: await response.json() };
      return health.body.stalled.some((s: { topic: string }) => s.topic === events);
    }, 30000, 'the stalled partition in /health/ready');
    expect(health.status).toBe(503);
    const stall = health.body.stalled.find((s: { topic: string }) => s.topic === events);
    expect(stall).toMatchObject({ partition: expect.any(Number), seconds: expect.any(Number), lastError: expect.any(String) });
    const gauge = new RegExp(`flywheel_worker_partition_stalled_seconds\\{topic="${events.replace(/\./g, '\\.')}",partition="${stall.partition}"\\} ([0-9.e+]+)`);
    const stalledSeconds = Number(gauge.exec(await (await fetch(`${worker.url}/metrics`)).text())?.[1]);
    expect(stalledSeconds).toBeGreaterThanOrEqual(1);

    await proxy.restore();
    await waitFor(async () => (await stored(p.projectId)) === 570, 60000, 'second batch after the database is back');
    await expect(signalEvents(p.projectId)).resolves.toBe(570);
    await waitFor(async () => (await fetch(`${worker.url}/health/ready`)).status === 200, 30000, 'ready again once the partition advanced');
    // Nothing went to the dead-letter topic during the outage.
    const admin = ctx.kafka.admin();
    await admin.connect();
    const dlq = await admin.fetchTopicOffsets(`${events}.dlq`);
    await admin.disconnect();
    expect(dlq.every((d) => d.high === d.low)).toBe(true);
    const metrics = await (await fetch(`${worker.url}/metrics`)).text();
    expect(Number(/flywheel_batch_retries_total (\d+)/.exec(metrics)![1])).toBeGreaterThan(0);
    await Promise.all([ctx.stopApp(worker), ctx.stopApp(dbApi)]);
    await proxy.cut();
  }, 120000);
});
