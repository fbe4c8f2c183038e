import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { topicNames } from '@flywheel/contracts';
import { Producer } from '@flywheel/kafka';
import { diffDerivedState, readDerivedState } from './support/derived-state';
import { AppProcess, ROOT, TestContext, call, readTopicWithKcat, waitFor } from './support/harness';

const ADMIN_TOKEN = 'test-admin-token-deletion-0123456789';
const CLI = path.join(ROOT, 'dist/apps/cli/src/main.js');

/**
 * End to end, with the built api, ingest-worker and CLI against the real PostgreSQL and Kafka: a user's deletion through
 * `flywheel users delete` (the raw id HMAC'd as at ingestion), state equal to `flywheel metrics rebuild` afterwards,
 * their events produced straight onto the topic after it dropped by the worker's tombstone, the audit trail; then a
 * project's deletion: its keys refused, its data gone, its messages in flight dead-lettered with the reason.
 */
describe('deleting a user and a project end to end', () => {
  const ctx = new TestContext('deletion');
  const topics = topicNames(ctx.prefix);
  let api: AppProcess;
  let worker: AppProcess;
  let producer: Producer;
  let project: { projectId: string; ingestKey: string; secretKey: string };

  beforeAll(async () => {
    await ctx.setUp();
    [api, worker] = await Promise.all([ctx.startApi({ FLYWHEEL_ADMIN_TOKEN: ADMIN_TOKEN }), ctx.startWorker()]);
    producer = ctx.kafka.producer();
    await producer.connect();
    project = (await call('POST', `${api.url}/v1/admin/projects`, ADMIN_TOKEN, { name: 'deletion', featureDim: 2 })).body;
  }, 60000);
  afterAll(async () => {
    await producer?.disconnect();
    await ctx.tearDown();
  }, 30000);

  const cli = (args: string[], key = project.secretKey) =>
    spawnSync(process.execPath, [CLI, ...args], { env: ctx.env({ FLYWHEEL_API_URL: api.url, FLYWHEEL_API_KEY: key }), encoding: 'utf8' });
  const stored = (projectId: string) => ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [projectId]);
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 5, 10, minute)).toISOString();
  const workerCounter = async (name: string) => {
    const text = await (await fetch(`${worker.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  };

  it('deletes a user everywhere; a later delivery of their events is dropped; the audit names the key, never the user', async () => {
    const generations = ['a', 'b', 'c'].map((v, i) => ({ videoId: v, requestId: 'r1', prompt: 'a cat surfing', model: 'seedance', modelVersion: '1.0', features: [i, 1] }));
    await expect(call('POST', `${api.url}/v1/generations`, project.ingestKey, { generations })).resolves.toMatchObject({ status: 202 });
    const events = [];
    for (const [u, user] of ['alice@example.com', 'bob', 'carol'].entries()) {
      for (const [i, videoId] of ['a', 'b', 'c'].entries()) {
        events.push({ eventId: `${u}-${i}-imp`, type: 'impression', videoId, userId: user, occurredAt: at(u * 3 + i) });
        events.push({ eventId: `${u}-${i}-prog`, type: 'progress', videoId, userId: user, occurredAt: at(u * 3 + i + 1), watchMs: 1000 * (i + 1), durationMs: 4000 });
      }
      events.push({ eventId: `${u}-choose`, type: 'choose', videoId: ['a', 'b', 'c'][u], userId: user, occurredAt: at(20 + u) });
      events.push({ eventId: `${u}-like`, type: 'like', videoId: 'a', userId: user, occurredAt: at(25 + u) });
    }
    await expect(call('POST', `${api.url}/v1/events`, project.ingestKey, { events })).resolves.toMatchObject({ status: 202 });
    await waitFor(async () => (await stored(project.projectId)) === events.length, 30000, 'events stored', worker.child);

    // Bad input: a clear 400 naming the field; an ingest key cannot delete.
    await expect(call('DELETE', `${api.url}/v1/users/${'x'.repeat(257)}`, project.secretKey)).resolves.toMatchObject({ status: 400, body: { error: { details: [{ field: 'userId' }] } } });
    await expect(call('DELETE', `${api.url}/v1/users/bob`, project.ingestKey)).resolves.toMatchObject({ status: 403 });

    const deleted = cli(['users', 'delete', 'alice@example.com', '--json']);
    expect(deleted.status).toBe(0);
    const view = JSON.parse(deleted.stdout);
    expect(view).toMatchObject({ kind: 'user', status: 'done', result: { events: 8, signalRows: 3, setsRebuilt: [], setsAlreadyLeft: [] } });
    expect(await stored(project.projectId)).toBe(events.length - 8);
    const [{ user_hash: aliceHash }] = await ctx.db.query(`SELECT user_hash FROM data_deletions WHERE id = $1`, [view.jobId]);
    await expect(ctx.count('SELECT count(*) FROM video_user_signals WHERE user_hash = $1', [aliceHash])).resolves.toBe(0);

    // Column by column, the state equals what `flywheel metrics rebuild` computes from the remaining events.
    const incremental = await readDerivedState(ctx.db, project.projectId);
    execFileSync(process.execPath, [CLI, 'metrics', 'rebuild', '--project', project.projectId, '--json'], { env: ctx.env() });
    expect(diffDerivedState(incremental, await readDerivedState(ctx.db, project.projectId))).toBe('');

    // A retry of one of her events, produced straight onto the topic after the deletion (as a producer retry or a
    // replay would), and one posted now that happened before: both dropped. A later event of bob's on the same
    // partition (same key) is the sentinel that the worker got past them.
    const dropped = await workerCounter('flywheel_events_dropped_deleted_user_total');
    const key = `${project.projectId}:a`;
    const retried = { v: 1, projectId: project.projectId, eventId: '0-0-imp', type: 'impression', videoId: 'a', userHash: aliceHash, occurredAt: at(0), receivedAt: at(0) };
    await producer.send({ topic: topics.events, acks: -1, messages: [{ key, value: JSON.stringify(retried) }] });
    await expect(call('POST', `${api.url}/v1/events`, project.ingestKey, { events: [{ eventId: 'late', type: 'like', videoId: 'a', userId: 'alice@example.com', occurredAt: at(30) }] })).resolves.toMatchObject({ status: 202 });
    await expect(call('POST', `${api.url}/v1/events`, project.ingestKey, { events: [{ eventId: 'sentinel', type: 'share', videoId: 'a', userId: 'bob', occurredAt: at(31) }] })).resolves.toMatchObject({ status: 202 });
    await waitFor(async () => (await ctx.count(`SELECT count(*) FROM feedback_events WHERE project_id = $1 AND event_id = 'sentinel'`, [project.projectId])) === 1, 30000, 'sentinel stored', worker.child);
    await expect(ctx.count('SELECT count(*) FROM feedback_events WHERE user_hash = $1', [aliceHash])).resolves.toBe(0);
    await expect(workerCounter('flywheel_events_dropped_deleted_user_total')).resolves.toBe(dropped + 2);

    // Idempotent, and audited: which key, when, what — no user id, raw or hashed.
    const again = JSON.parse(cli(['users', 'delete', 'alice@example.com', '--json']).stdout);
    expect(again).toMatchObject({ status: 'done', result: { events: 0, signalRows: 0 } });
    const audit = await call('GET', `${api.url}/v1/deletions`, project.secretKey);
    expect(audit.status).toBe(200);
    const keyId = (await call('GET', `${api.url}/v1/project/keys`, project.secretKey)).body.keys.find((k: { kind: string }) => k.kind === 'secret').keyId;
    expect(audit.body.deletions).toEqual([
      expect.objectContaining({ jobId: again.jobId, requestedBy: `key:${keyId}`, status: 'done' }),
      expect.objectContaining({ jobId: view.jobId, requestedBy: `key:${keyId}`, requestedAt: expect.any(String), result: expect.objectContaining({ events: 8 }) }),
    ]);
    expect(JSON.stringify(audit.body)).not.toMatch(/alice|example\.com/);
    expect(JSON.stringify(audit.body)).not.toContain(aliceHash);
    await expect(call('GET', `${api.url}/v1/deletions/${view.jobId}`, project.secretKey)).resolves.toMatchObject({ status: 200, body: { jobId: view.jobId } });
  }, 90000);

  it('deletes a project: keys refused, data gone, its messages still in flight dead-lettered with the reason', async () => {
    const doomed = (await call('POST', `${api.url}/v1/admin/projects`, ADMIN_TOKEN, { name: 'doomed', featureDim: 2 })).body;
    const events = Array.from({ length: 5 }, (_, i) => ({ eventId: `d${i}`, type: 'play', videoId: 'v', userId: `u${i}`, occurredAt: at(i) }));
    await call('POST', `${api.url}/v1/events`, doomed.ingestKey, { events });
    await waitFor(async () => (await stored(doomed.projectId)) === 5, 30000, 'events stored', worker.child);

    const deleted = spawnSync(process.execPath, [CLI, 'project', 'delete', doomed.projectId, '--json'], { env: ctx.env({ FLYWHEEL_API_URL: api.url, FLYWHEEL_ADMIN_TOKEN: ADMIN_TOKEN }), encoding: 'utf8' });
    expect(deleted.status).toBe(0);
    const job = JSON.parse(deleted.stdout);
    expect(job).toMatchObject({ kind: 'project', status: 'done', deleted: true, result: { removed: { feedback_events: 5, video_user_signals: 5 } } });
    await expect(call('GET', `${api.url}/v1/admin/deletions/${job.jobId}`, ADMIN_TOKEN)).resolves.toMatchObject({ status: 200, body: { status: 'done' } });
    const refused = await call('POST', `${api.url}/v1/events`, doomed.ingestKey, { events: [events[0]] });
    expect(refused).toMatchObject({ status: 410, body: { error: { code: 'PROJECT_DELETED' } } });

    // Straight onto the topic, as if produced before the deletion: the dead-letter topic, with the reason.
    const value = { v: 1, projectId: doomed.projectId, eventId: 'in-flight', type: 'like', videoId: 'v', userHash: 'h', occurredAt: at(9), receivedAt: at(9) };
    await producer.send({ topic: topics.events, acks: -1, messages: [{ key: `${doomed.projectId}:v`, value: JSON.stringify(value) }] });
    const broker = ctx.config.kafka.brokers[0];
    let letter: { reason: string } | undefined;
    await waitFor(async () => {
      letter = readTopicWithKcat(broker, topics.eventsDlq).map((m) => JSON.parse(m.raw))
        .find((l) => JSON.parse(Buffer.from(l.rawPayload, 'base64').toString()).eventId === 'in-flight');
      return letter !== undefined;
    }, 30000, 'dead letter', worker.child);
    expect(letter!.reason).toBe(`project ${doomed.projectId} was deleted`);
    await expect(stored(doomed.projectId)).resolves.toBe(0);
    // The other project is untouched.
    await expect(stored(project.projectId)).resolves.toBeGreaterThan(0);
  }, 90000);
});
