import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { topicNames } from '@flywheel/contracts';
import { CreatedProject } from '@flywheel/database';
import { describeGroup, describeTopics, groupOffsets } from '@flywheel/kafka';
import { AppProcess, ROOT, TestContext, feedbackBatch, post, postAll, sleep, waitFor } from './support/harness';
import { diffDerivedState, readDerivedState } from './support/derived-state';
import { LocalKafkaCluster } from './support/kafka-cluster';

/**
 * The api and the ingest-workers on a 3-node Kafka cluster (deploy/kafka-cluster.sh; replication 3, two replicas in
 * sync for a write, the api producing with acks from all in-sync replicas), with a broker and then a worker
 * SIGKILLed mid-stream. The cluster is started once for this file, next to the suite's single broker, and always
 * stopped after it.
 */
describe('on a 3-node Kafka cluster', () => {
  const infraDir = process.env.FLYWHEEL_INFRA_DIR ?? path.join(ROOT, '.infra/test');
  const clusterDir = path.join(infraDir, 'kafka-cluster');
  let cluster: LocalKafkaCluster;
  let ctx: TestContext;
  let api: AppProcess;

  const stored = (projectId: string) => ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [projectId]);
  const signalEvents = (projectId: string) => ctx.count('SELECT coalesce(sum(event_count), 0) FROM video_user_signals WHERE project_id = $1', [projectId]);

  beforeAll(async () => {
    // Ports next to the suite's broker (KAFKA_PORT and +1), so parallel runs with their own FLYWHEEL_TEST_KAFKA_PORT
    // never meet.
    cluster = await LocalKafkaCluster.start(Number(process.env.KAFKA_PORT ?? 19092) + 10, clusterDir);
    ctx = new TestContext('cluster', { KAFKA_BROKERS: cluster.brokers, KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' });
    await ctx.setUp();
    api = await ctx.startApi();
  }, 300000);
  afterAll(async () => {
    try {
      await ctx?.tearDown();
    } finally {
      await LocalKafkaCluster.stopIn(clusterDir);
    }
  }, 120000);

  it('keeps every acknowledged event when a broker is SIGKILLed mid-ingest; the api keeps accepting, the worker goes on', async () => {
    const eventsTopic = topicNames(ctx.prefix).events;
    const [before] = await describeTopics(ctx.kafka, [eventsTopic]);
    expect(before.minInsyncReplicas).toBe(2);
    for (const partition of before.partitions) expect(partition).toMatchObject({ replicas: [1, 2, 3], isr: [1, 2, 3] });
    // The node that leads most partitions of the events topic: its death moves the most leaderships.
    const leads = [1, 2, 3].map((node) => before.partitions.filter((p) => p.leader === node).length);
    const victim = leads.indexOf(Math.max(...leads)) + 1;

    const p = await ctx.createProject(4);
    const worker = await ctx.startWorker({ WORKER_MAX_BYTES_PER_PARTITION: '16384' });
    try {
      const batches = Array.from({ length: 90 }, (_, b) => feedbackBatch('bkill', b, 200));
      let killed: Promise<string> | null = null;
      let killedAt = Infinity;
      const log = await postRetrying(api, p.ingestKey, batches, {
        paceMs: 100,
        beforeBatch: (index) => {
          if (index === 25) killed = cluster.killNode(victim).then((output) => ((killedAt = Date.now()), output));
        },
      });
      await killed;
      // Only 202 and 503 (with Retry-After) while the cluster elected new leaders; every batch was accepted in the end.
      expect(log.unexpected).toEqual([]);
      expect(log.accepted).toEqual(new Set(batches.flat().map((e) => e.eventId)));
      expect(log.acceptedAt.filter((t) => t > killedAt).length).toBeGreaterThan(0);
      process.stdout.write(`[cluster] node ${victim} killed: ${log.unavailable} answers 503, the longest wait for a 202 ${log.longestUnavailableMs} ms\n`);

      await waitFor(async () => (await stored(p.projectId)) >= log.accepted.size, 120000, 'every accepted event persisted')
        .catch(async (error) => { throw new Error(`${error.message}\n${await whereIsEverything(p.projectId, log.accepted)}`); });
      expect(worker.child.exitCode).toBeNull(); // the same worker, never restarted
      const rows: { event_id: string }[] = await ctx.db.query('SELECT event_id FROM feedback_events WHERE project_id = $1', [p.projectId]);
      expect(rows.length).toBe(log.accepted.size);
      expect(new Set(rows.map((r) => r.event_id))).toEqual(log.accepted);
      await expect(signalEvents(p.projectId)).resolves.toBe(log.accepted.size);
    } finally {
      await ctx.stopApp(worker);
    }

    // The node comes back, catches up and is in sync again on every partition.
    await cluster.startNode(victim);
    await waitFor(async () => {
      await sleep(1000);
      const [after] = await describeTopics(ctx.kafka, [eventsTopic]);
      return after.partitions.every((partition) => partition.isr.length === 3);
    }, 120000, `node ${victim} back in sync`);
  }, 420000);

  it('is exactly once with three workers in one group when one is SIGKILLed mid-stream, and equals a rebuild', async () => {
    const p = await ctx.createProject(4);
    const small = { WORKER_MAX_BYTES_PER_PARTITION: '16384', WORKER_SESSION_TIMEOUT_MS: '6000' };
    const workers = await Promise.all([ctx.startWorker(small), ctx.startWorker(small), ctx.startWorker(small)]);
    try {
      const groupId = ctx.env().WORKER_GROUP_ID!;
      await waitFor(async () => {
        const group = await describeGroup(ctx.kafka, groupId);
        return group.state === 'Stable' && group.members.length === 3;
      }, 90000, 'three workers in one stable group');
      // Generations first, then the feedback: this test is about the group and the kill, not about arrival order.
      await register(p, 50);

      const batches = Array.from({ length: 60 }, (_, b) => feedbackBatch('gkill', b, 400));
      const accepted = new Set<string>();
      const posting = postAll(api, p.ingestKey, batches, accepted);
      await waitFor(async () => (await stored(p.projectId)) > 3000, 90000, 'some events persisted');
      await ctx.stopApp(workers[0], 'SIGKILL');
      const atKill = await stored(p.projectId);
      await posting;
      expect(accepted).toEqual(new Set(batches.flat().map((e) => e.eventId)));
      expect(atKill).toBeLessThan(accepted.size);

      // The two survivors take over the dead worker's partitions (after its session times out) and finish.
      await waitFor(async () => (await stored(p.projectId)) >= accepted.size, 120000, 'every accepted event persisted')
        .catch(async (error) => { throw new Error(`${error.message}\n${await whereIsEverything(p.projectId, accepted)}`); });
      await sleep(500);
      await expect(stored(p.projectId)).resolves.toBe(accepted.size);
      await expect(signalEvents(p.projectId)).resolves.toBe(accepted.size);
      expect(workers.slice(1).map((w) => w.child.exitCode)).toEqual([null, null]);

      const incremental = await readDerivedState(ctx.db, p.projectId);
      expect(incremental.signals.length).toBeGreaterThan(0);
      const [report] = rebuild(p.projectId);
      expect(report).toMatchObject({ projectId: p.projectId, events: accepted.size });
      expect(diffDerivedState(incremental, await readDerivedState(ctx.db, p.projectId))).toBe('');
    } finally {
      await Promise.all(workers.map((w) => ctx.stopApp(w)));
    }
  }, 420000);

  /** For a failure message: how many accepted events are missing, and how far the worker's group got on each partition. */
  async function whereIsEverything(projectId: string, accepted: Set<string>): Promise<string> {
    const rows: { event_id: string }[] = await ctx.db.query('SELECT event_id FROM feedback_events WHERE project_id = $1', [projectId]);
    const have = new Set(rows.map((r) => r.event_id));
    const missing = [...accepted].filter((id) => !have.has(id));
    const offsets = await groupOffsets(ctx.kafka, ctx.env().WORKER_GROUP_ID!, topicNames(ctx.prefix).events).catch((e) => (e as Error).message);
    return `${missing.length} accepted events missing (e.g. ${missing.slice(0, 5).join(', ')}); group offsets: ${JSON.stringify(offsets)}`;
  }

  async function register(project: CreatedProject, videos: number): Promise<void> {
    const generations = Array.from({ length: videos }, (_, i) => ({
      videoId: `v${i}`, requestId: `r${Math.floor(i / 4)}`, prompt: `prompt ${Math.floor(i / 4)}`, model: 'seedance',
      modelVersion: i % 3 ? '1.0' : '2.0', category: i % 2 ? 'pets' : 'travel', segment: i % 5 ? 'casual' : 'pro', durationMs: 8000,
      features: [i, 1, 2, 3],
    }));
    await expect(post(`${api.url}/v1/generations`, project.ingestKey, { generations })).resolves.toMatchObject({ status: 202 });
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM generations WHERE project_id = $1', [project.projectId])) === videos, 60000, 'generations');
  }

  function rebuild(projectId: string): { projectId: string; events: number }[] {
    const cli = path.join(ROOT, 'dist/apps/cli/src/main.js');
    return JSON.parse(execFileSync(process.execPath, [cli, 'metrics', 'rebuild', '--project', projectId, '--json'], { env: ctx.env() }).toString());
  }
});

interface PostLog {
  accepted: Set<string>;
  /** When each batch got its 202 (ms since the epoch). */
  acceptedAt: number[];
  unavailable: number;
  longestUnavailableMs: number;
  /** Answers other than 202 and 503 with Retry-After. */
  unexpected: string[];
}

/**
 * Four clients post the batches as a real client does: a batch that gets 503 is sent again, the same eventIds,
 * until it gets 202 (a short pause instead of the 5 s Retry-After, to keep the test short).
 */
async function postRetrying(
  api: AppProcess, key: string, batches: { eventId: string }[][],
  options: { paceMs: number; beforeBatch: (index: number) => void },
): Promise<PostLog> {
  const log: PostLog = { accepted: new Set(), acceptedAt: [], unavailable: 0, longestUnavailableMs: 0, unexpected: [] };
  let next = 0;
  const client = async () => {
    while (next < batches.length) {
      const index = next++;
      options.beforeBatch(index);
      const deadline = Date.now() + 120000;
      let firstRefusal: number | null = null;
      for (;;) {
        const response = await post(`${api.url}/v1/events`, key, { events: batches[index] });
        if (response.status === 202) {
          batches[index].forEach((e) => log.accepted.add(e.eventId));
          log.acceptedAt.push(Date.now());
          if (firstRefusal !== null) log.longestUnavailableMs = Math.max(log.longestUnavailableMs, Date.now() - firstRefusal);
          break;
        }
        if (response.status !== 503 || response.headers.get('retry-after') === null || response.body?.error?.code !== 'BROKER_UNAVAILABLE') {
          log.unexpected.push(`batch ${index}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
          break;
        }
        log.unavailable++;
        firstRefusal ??= Date.now();
        if (Date.now() > deadline) {
          log.unexpected.push(`batch ${index}: still 503 after 120 s`);
          break;
        }
        await sleep(200);
      }
      await sleep(options.paceMs);
    }
  };
  await Promise.all([client(), client(), client(), client()]);
  return log;
}
