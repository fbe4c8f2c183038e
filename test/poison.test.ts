import { createHash } from 'node:crypto';
import { topicNames } from '@flywheel/contracts';
import { CreatedProject } from '@flywheel/database';
import { AppProcess, TestContext, prng, sleep, waitFor } from './support/harness';

/**
 * Messages the database could not hold as sent, produced straight onto the topics (bypassing the api), each among
 * good messages on the same partition: the worker stores the good ones exactly once, stores or dead-letters each
 * suspect one (with a reason) — never both, never neither — and its committed offset moves past them all
 * (invariant 8). On the old worker the partition stalled behind the first of them. Whether a value is refused by
 * the decoder, stored as the column holds it, or refused by PostgreSQL is the contract's business; the path where
 * PostgreSQL refuses is proven in test/medium/batch-consumer.test.ts.
 */
describe('poison messages on the topics', () => {
  const ctx = new TestContext('poison');
  const topics = topicNames(ctx.prefix);
  let worker: AppProcess;
  let project: CreatedProject;
  const at = new Date(Date.UTC(2026, 10, 1, 12)).toISOString();

  beforeAll(async () => {
    await ctx.setUp();
    project = await ctx.createProject(4);
    worker = await ctx.startWorker();
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  /** Produces the values in order with one key (one partition); returns the partition and the last offset. */
  async function produce(topic: string, key: string, values: (object | Buffer)[]): Promise<{ partition: number; lastOffset: number }> {
    const producer = ctx.kafka.producer();
    await producer.connect();
    try {
      const messages = values.map((v) => ({ key, value: Buffer.isBuffer(v) ? v : JSON.stringify(v) }));
      const [meta] = await producer.send({ topic, acks: -1, messages });
      return { partition: meta.partition, lastOffset: Number(meta.baseOffset) + values.length - 1 };
    } finally {
      await producer.disconnect();
    }
  }

  async function committedOffset(topic: string, partition: number): Promise<number> {
    const admin = ctx.kafka.admin();
    await admin.connect();
    try {
      const [{ partitions }] = await admin.fetchOffsets({ groupId: `${ctx.prefix}-ingest`, topics: [topic] });
      return Number(partitions.find((p) => p.partition === partition)!.offset);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Each suspect message ends up either stored or dead-lettered with a reason — never both, never neither. Called
   * after the committed offset passed them: rows and dead letters are both durable before an offset moves.
   */
  async function storedOrDeadLettered(dlqTopic: string, field: string, suspects: string[], stored: string[]): Promise<string[]> {
    const expected = suspects.filter((id) => !stored.includes(id));
    const found = new Map<string, string>();
    const reader = ctx.kafka.consumer({ groupId: `${ctx.prefix}-dlq-${Date.now()}` });
    await reader.connect();
    await reader.subscribe({ topic: dlqTopic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const letter = JSON.parse(message.value!.toString());
        const payload = JSON.parse(Buffer.from(letter.rawPayload, 'base64').toString());
        if (suspects.includes(payload[field])) found.set(payload[field], letter.reason);
      },
    });
    try {
      await waitFor(async () => expected.every((id) => found.has(id)), 60000, `dead letters for ${expected.join(', ')}`);
      await sleep(1000);
    } finally {
      await reader.disconnect();
    }
    expect([...found.keys()].sort()).toEqual(expected.sort());
    for (const reason of found.values()) expect(reason.length).toBeGreaterThan(0);
    return expected;
  }

  it('events: a fractional and an out-of-range rating never hold the partition; the events around them are stored once', async () => {
    const event = (eventId: string, extra: object = {}) => ({
      v: 1, projectId: project.projectId, eventId, type: 'play', videoId: 'poison-video', userHash: `user-${eventId}`,
      occurredAt: at, receivedAt: at, ...extra,
    });
    const good = Array.from({ length: 15 }, (_, i) => event(`good-${i}`, i % 3 === 0 ? { type: 'rate', rating: 1 + (i % 5) } : {}));
    const bad = {
      'bad-fraction': event('bad-fraction', { type: 'rate', rating: 4.5 }), // the signal row's rating is a smallint
      'bad-overflow': event('bad-overflow', { type: 'rate', rating: 40000 }),
    };
    const values = [...good.slice(0, 5), bad['bad-fraction'], ...good.slice(5, 10), bad['bad-overflow'], ...good.slice(10)];
    const { partition, lastOffset } = await produce(topics.events, `${project.projectId}:poison-video`, values);

    await waitFor(async () => (await committedOffset(topics.events, partition)) > lastOffset, 90000, 'the committed offset past the last event');
    const rows: { event_id: string }[] = await ctx.db.query('SELECT event_id FROM feedback_events WHERE project_id = $1', [project.projectId]);
    const stored = rows.map((r) => r.event_id);
    expect(stored.filter((id) => id.startsWith('good-')).sort()).toEqual(good.map((e) => e.eventId).sort());
    // Derived state counted each stored event once, across the split transactions.
    await expect(ctx.count('SELECT coalesce(sum(event_count), 0) FROM video_user_signals WHERE project_id = $1', [project.projectId])).resolves.toBe(stored.length);
    const dead = await storedOrDeadLettered(topics.eventsDlq, 'eventId', Object.keys(bad), stored);
    expect(dead).toContain('bad-overflow'); // no column holds a rating of 40000
  }, 180000);

  it('generations: features beyond float32 and a prompt too large to index never hold the partition; the rest are stored', async () => {
    const random = prng(7);
    const generation = (videoId: string, extra: object = {}) => ({
      v: 1, projectId: project.projectId, videoId, requestId: 'poison-request', prompt: `a prompt for ${videoId}`, model: 'm',
      modelVersion: '1', features: [0.1, 0.2, 0.3, 0.4], createdAt: at, receivedAt: at, ...extra,
    });
    const good = Array.from({ length: 12 }, (_, i) => generation(`good-${i}`));
    const bad = {
      'bad-underflow': generation('bad-underflow', { features: [0.1, 1e-50, 0.3, 0.4] }), // finite, below float32's range
      'bad-overflow': generation('bad-overflow', { features: [0.1, 1e39, 0.3, 0.4] }), // finite, above it
      // 10,000 characters the decoder accepts; random CJK does not compress below the btree's 2,704-byte row limit.
      'bad-prompt': generation('bad-prompt', { prompt: Array.from({ length: 10000 }, () => String.fromCharCode(0x4e00 + Math.floor(random() * 20000))).join('') }),
    };
    const values = [
      ...good.slice(0, 3), bad['bad-underflow'], ...good.slice(3, 6), bad['bad-overflow'], ...good.slice(6, 9), bad['bad-prompt'], ...good.slice(9),
    ];
    const { partition, lastOffset } = await produce(topics.generations, `${project.projectId}:poison-request`, values);

    await waitFor(async () => (await committedOffset(topics.generations, partition)) > lastOffset, 90000, 'the committed offset past the last generation');
    const rows: { video_id: string }[] = await ctx.db.query('SELECT video_id FROM generations WHERE project_id = $1', [project.projectId]);
    const stored = rows.map((r) => r.video_id);
    expect(stored.filter((id) => id.startsWith('good-')).sort()).toEqual(good.map((g) => g.videoId).sort());
    const dead = await storedOrDeadLettered(topics.generationsDlq, 'videoId', Object.keys(bad), stored);
    expect(dead).toContain('bad-overflow'); // a real cannot hold 1e39

    // The partition advanced: nothing is reported stalled, and the worker is ready.
    const ready = await fetch(`${worker.url}/health/ready`);
    expect(ready.status).toBe(200);
    await expect(ready.json()).resolves.toMatchObject({ status: 'ok', stalled: [] });
  }, 180000);

  /** The dead letters of `topic` for these source offsets, read from the beginning of its DLQ. */
  async function lettersAt(dlqTopic: string, offsets: number[]): Promise<Map<number, Record<string, unknown>>> {
    const found = new Map<number, Record<string, unknown>>();
    const reader = ctx.kafka.consumer({ groupId: `${ctx.prefix}-dlq-${Date.now()}`, maxBytesPerPartition: 4 << 20 });
    await reader.connect();
    await reader.subscribe({ topic: dlqTopic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const letter = JSON.parse(message.value!.toString());
        if (offsets.includes(Number(letter.offset))) found.set(Number(letter.offset), letter);
      },
    });
    try {
      await waitFor(async () => offsets.every((o) => found.has(o)), 60000, `dead letters at offsets ${offsets.join(', ')}`);
    } finally {
      await reader.disconnect();
    }
    return found;
  }

  /** `count` good events around one raw value, on one partition; waits until the offset passed them all. */
  async function aroundRaw(raw: Buffer, tag: string) {
    const event = (eventId: string) => ({
      v: 1, projectId: project.projectId, eventId, type: 'play', videoId: `${tag}-video`, userHash: `user-${eventId}`, occurredAt: at, receivedAt: at,
    });
    const good = Array.from({ length: 6 }, (_, i) => event(`${tag}-good-${i}`));
    const { partition, lastOffset } = await produce(topics.events, `${project.projectId}:${tag}-video`, [...good.slice(0, 3), raw, ...good.slice(3)]);
    await waitFor(async () => (await committedOffset(topics.events, partition)) > lastOffset, 90000, 'the committed offset past the last event');
    const stored = await ctx.count(`SELECT count(*) FROM feedback_events WHERE project_id = $1 AND video_id = $2`, [project.projectId, `${tag}-video`]);
    expect(stored).toBe(good.length);
    return { rawOffset: lastOffset - 3 };
  }

  it('a message too large to dead-letter whole (base64 in the letter is 4/3 of it) never holds the partition: its letter keeps a prefix, its size and its digest', async () => {
    // 900 kB of bytes that are no event: the topic takes it (under the broker's 1 MiB), its letter whole would not.
    const raw = Buffer.alloc(900_000, 'not an event; ');
    const { rawOffset } = await aroundRaw(raw, 'huge');
    const letter = (await lettersAt(topics.eventsDlq, [rawOffset])).get(rawOffset)!;
    expect(letter).toMatchObject({ topic: topics.events, offset: String(rawOffset), rawTruncated: true, rawBytes: raw.length, rawSha256: createHash('sha256').update(raw).digest('hex') });
    expect(String(letter.reason)).not.toBe('');
    const kept = Buffer.from(String(letter.rawPayload), 'base64');
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(raw.length);
    expect(kept.equals(raw.subarray(0, kept.length))).toBe(true);
  }, 180000);

  it('a dead letter the DLQ topic refuses as too large is sent again without its payload, and the partition moves on', async () => {
    // The operator's DLQ takes less than the source topic: 100 kB per message.
    const admin = ctx.kafka.admin();
    await admin.connect();
    try {
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2 /* TOPIC */, name: topics.eventsDlq, configEntries: [{ name: 'max.message.bytes', value: '100000' }] }] });
    } finally {
      await admin.disconnect();
    }
    const raw = Buffer.alloc(200_000, 'still not an event; ');
    const { rawOffset } = await aroundRaw(raw, 'refused');
    const letter = (await lettersAt(topics.eventsDlq, [rawOffset])).get(rawOffset)!;
    expect(letter).toMatchObject({ rawPayload: '', rawTruncated: true, rawBytes: raw.length, rawSha256: createHash('sha256').update(raw).digest('hex') });
    const ready = await fetch(`${worker.url}/health/ready`);
    await expect(ready.json()).resolves.toMatchObject({ status: 'ok', stalled: [] });
  }, 180000);
});
