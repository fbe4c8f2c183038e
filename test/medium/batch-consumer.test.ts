import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { BatchConsumer, BatchOutcome, KafkaMessage, KafkaPublisher, UNKNOWN_FAILURE_ATTEMPTS } from '@flywheel/kafka';
import { TestContext, sleep, waitFor } from '../support/harness';

/**
 * BatchConsumer in-process against the real PostgreSQL and Kafka: a handler that stores messages the way the
 * ingest-worker does (one transaction a run, idempotent insert, a derived counter changed only for new rows), and
 * failures that are real — PostgreSQL refusing a value (SQLSTATE class 22), a refused connection, an unexplained
 * throw.
 */
describe('BatchConsumer failure handling (medium: in-process, real PostgreSQL and Kafka)', () => {
  const ctx = new TestContext('medium-batch');
  const consumers: BatchConsumer[] = [];
  const topics: string[] = [];
  let publisher: KafkaPublisher;
  let scenario = 0;

  beforeAll(async () => {
    await ctx.setUp();
    await ctx.db.query(`CREATE TABLE medium_values (topic text, id text, value smallint, label text, PRIMARY KEY (topic, id))`);
    await ctx.db.query(`CREATE TABLE medium_effects (topic text PRIMARY KEY, stored bigint NOT NULL)`);
    publisher = new KafkaPublisher(ctx.kafka, 5000);
  }, 60000);

  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.stop().catch(() => undefined)));
    await publisher.disconnect();
    const admin = ctx.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics, timeout: 10000 }).catch(() => undefined);
    await admin.disconnect();
    await ctx.db.query('DROP TABLE IF EXISTS medium_values, medium_effects');
    await ctx.tearDown();
  }, 60000);

  /** A fresh single-partition topic (and its .dlq) per scenario, so each starts from offset 0. */
  async function freshTopic(): Promise<string> {
    const topic = `${ctx.prefix}.medium-${++scenario}`;
    const admin = ctx.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [topic, `${topic}.dlq`].map((t) => ({ topic: t, numPartitions: 1, replicationFactor: -1 })), waitForLeaders: false });
      // Leaders may take a moment on a loaded machine: wait until both topics answer metadata requests.
      await waitFor(async () => (await admin.fetchTopicMetadata({ topics: [topic, `${topic}.dlq`] })).topics.every((t) => t.partitions.length === 1 && t.partitions[0].leader >= 0), 30000, `topic ${topic} ready`);
    } finally {
      await admin.disconnect();
    }
    topics.push(topic, `${topic}.dlq`);
    return topic;
  }

  /** Stores `{ id, value, label }` messages in one transaction; malformed JSON is a dead letter (a decode failure). */
  const storeValues = (fault?: (ids: string[]) => Promise<void>) => async (topic: string, _partition: number, messages: KafkaMessage[]): Promise<BatchOutcome> => {
    const deadLetters: BatchOutcome['deadLetters'] = [];
    const rows: unknown[] = [];
    for (const message of messages) {
      try {
        rows.push(JSON.parse(message.value!.toString()));
      } catch {
        deadLetters.push({ message, reason: 'not valid JSON' });
      }
    }
    await fault?.(rows.map((r) => (r as { id: string }).id));
    await ctx.db.transaction(async (em) => {
      const fresh: unknown[] = await em.query(
        `INSERT INTO medium_values (topic, id, value, label)
         SELECT $1, r.id, r.value, r.label FROM json_to_recordset($2::json) AS r(id text, value smallint, label text)
         ON CONFLICT DO NOTHING RETURNING id`,
        [topic, JSON.stringify(rows)],
      );
      await em.query(
        `INSERT INTO medium_effects (topic, stored) VALUES ($1, $2) ON CONFLICT (topic) DO UPDATE SET stored = medium_effects.stored + $2`,
        [topic, fresh.length],
      );
    });
    return { deadLetters };
  };

  async function start(topic: string, handler: ReturnType<typeof storeValues>, extra: Partial<ConstructorParameters<typeof BatchConsumer>[2]> = {}) {
    const consumer = new BatchConsumer(ctx.kafka, publisher, {
      groupId: `${topic}-group`, topics: [topic], partitionsConsumedConcurrently: 1, maxBytesPerPartition: 1024 * 1024,
      sessionTimeoutMs: 10000, stallAfterMs: 60000, ...extra,
    }, handler);
    consumers.push(consumer);
    await consumer.start();
    return consumer;
  }

  const send = (topic: string, values: (string | object)[]) =>
    publisher.send(topic, values.map((v) => ({ key: 'one-key', value: typeof v === 'string' ? v : JSON.stringify(v) })));

  const committed = async (topic: string): Promise<number> => {
    const admin = ctx.kafka.admin();
    await admin.connect();
    try {
      const [{ partitions }] = await admin.fetchOffsets({ groupId: `${topic}-group`, topics: [topic] });
      return Number(partitions[0].offset);
    } finally {
      await admin.disconnect();
    }
  };

  const storedIds = async (topic: string): Promise<string[]> =>
    (await ctx.db.query('SELECT id FROM medium_values WHERE topic = $1 ORDER BY id', [topic])).map((r: { id: string }) => r.id);
  const effects = (topic: string) => ctx.count('SELECT coalesce(sum(stored), 0) FROM medium_effects WHERE topic = $1', [topic]);

  async function deadLetters(topic: string, atLeast: number): Promise<{ reason: string; offset: string; raw: string }[]> {
    const letters: { reason: string; offset: string; raw: string }[] = [];
    const reader = ctx.kafka.consumer({ groupId: `${topic}-dlq-reader-${Date.now()}` });
    await reader.connect();
    await reader.subscribe({ topic: `${topic}.dlq`, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const letter = JSON.parse(message.value!.toString());
        letters.push({ reason: letter.reason, offset: letter.offset, raw: Buffer.from(letter.rawPayload, 'base64').toString() });
      },
    });
    try {
      await waitFor(async () => letters.length >= atLeast, 30000, `${atLeast} dead letters on ${topic}.dlq`);
      await sleep(500); // nothing more should come
    } finally {
      await reader.disconnect();
    }
    return letters.sort((a, b) => Number(a.offset) - Number(b.offset));
  }

  const good = (i: number) => ({ id: `good-${String(i).padStart(2, '0')}`, value: i, label: 'fine' });

  it('dead-letters only the messages PostgreSQL refuses, stores the rest once, and commits past them', async () => {
    const topic = await freshTopic();
    // Offsets: 0 refused (smallint overflow), 1–6 good, 7 refused (a fraction for a smallint), 8 not JSON,
    // 9–18 good, 19 refused (NUL in text), 20–21 good.
    const values: (string | object)[] = [
      { id: 'bad-overflow', value: 40000 },
      ...[1, 2, 3, 4, 5, 6].map(good),
      { id: 'bad-fraction', value: 4.5 },
      '{"not json',
      ...[9, 10, 11, 12, 13, 14, 15, 16, 17, 18].map(good),
      { id: 'bad-nul', value: 1, label: 'a\u0000b' },
      ...[20, 21].map(good),
    ];
    await send(topic, values);
    const splits: number[] = [];
    await start(topic, storeValues(), { onSplit: ({ messages }) => splits.push(messages) });

    await waitFor(async () => (await committed(topic)) === values.length, 60000, 'the committed offset past the last message');
    const expected = [1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21].map((i) => good(i).id);
    await expect(storedIds(topic)).resolves.toEqual(expected);
    await expect(effects(topic)).resolves.toBe(expected.length); // every good row counted once across the splits

    const letters = await deadLetters(topic, 4);
    expect(letters.map((l) => l.offset)).toEqual(['0', '7', '8', '19']);
    expect(letters[0].reason).toMatch(/^refused: .*\(SQLSTATE 22003\)$/);
    expect(letters[1].reason).toMatch(/^refused: .*\(SQLSTATE 22P02\)$/);
    expect(letters[2]).toEqual({ offset: '8', reason: 'not valid JSON', raw: '{"not json' });
    expect(letters[3].reason).toMatch(/^refused: .*\(SQLSTATE 22P05\)$/);
    expect(JSON.parse(letters[1].raw)).toEqual({ id: 'bad-fraction', value: 4.5 });
    expect(splits.length).toBeGreaterThan(0);
  }, 120000);

  it('retries a failure it cannot classify a bounded number of times, then isolates and dead-letters it', async () => {
    const topic = await freshTopic();
    const values = [good(1), { id: 'mystery', value: 2 }, good(3), good(4)];
    await send(topic, values);
    const attempts: string[] = [];
    await start(topic, storeValues(async (ids) => {
      if (ids.includes('mystery')) {
        attempts.push(ids.join(','));
        throw new Error('something nobody classified');
      }
    }));

    await waitFor(async () => (await committed(topic)) === values.length, 60000, 'the committed offset past the last message');
    await expect(storedIds(topic)).resolves.toEqual(['good-01', 'good-03', 'good-04']);
    await expect(effects(topic)).resolves.toBe(3);
    const [letter, ...more] = await deadLetters(topic, 1);
    expect(more).toEqual([]);
    expect(letter).toMatchObject({ offset: '1', reason: `failed ${UNKNOWN_FAILURE_ATTEMPTS} times, cause unknown: something nobody classified` });
    // Each run that holds the message gets the bounded attempts before it is split; never more.
    const alone = attempts.filter((a) => a === 'mystery').length;
    expect(alone).toBe(UNKNOWN_FAILURE_ATTEMPTS);
  }, 120000);

  it('never dead-letters while a dependency is down: a transient failure holds the offset and shows as a stall', async () => {
    const topic = await freshTopic();
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    let mode: 'unexplained' | 'refused' | 'up' = 'unexplained';
    let unexplainedCalls = 0;
    let probes = 0;
    const consumer = await start(topic, storeValues(async () => {
      // First an error with no code at all while the dependency probe says the database does not answer (pg's
      // "Connection terminated unexpectedly" looks like this); then a real refused connection (ECONNREFUSED, the
      // socket error pg passes on).
      if (mode === 'unexplained') {
        unexplainedCalls++;
        throw new Error('Connection terminated unexpectedly');
      }
      if (mode === 'refused') await new Promise((_, reject) => connect(port, '127.0.0.1').on('error', reject));
    }), { stallAfterMs: 1000, dependenciesAvailable: async () => { probes++; return mode === 'up'; } });
    const values = [good(1), good(2), good(3)];
    await send(topic, values);

    // Past the bound for unknown failures, the probe says "down", so the run keeps retrying instead of splitting.
    await waitFor(async () => unexplainedCalls > UNKNOWN_FAILURE_ATTEMPTS, 60000, 'retries beyond the unknown bound');
    expect(probes).toBeGreaterThan(0);
    await expect(committed(topic)).resolves.toBeLessThan(1);
    await waitFor(async () => consumer.stalledPartitions().length === 1, 30000, 'the partition reported stalled');
    const [stall] = consumer.stalledPartitions();
    expect(stall).toMatchObject({ topic, partition: 0, lastError: 'Connection terminated unexpectedly' });
    expect(stall.seconds).toBeGreaterThanOrEqual(1);

    mode = 'refused';
    await waitFor(async () => (consumer.stalledPartitions()[0]?.lastError ?? '').includes('ECONNREFUSED'), 60000, 'a refused connection reported');
    await expect(committed(topic)).resolves.toBeLessThan(1);

    mode = 'up';
    await waitFor(async () => (await committed(topic)) === values.length, 60000, 'offset moves once the database is back');
    await expect(storedIds(topic)).resolves.toEqual(['good-01', 'good-02', 'good-03']);
    expect(consumer.stalledPartitions()).toEqual([]);
    expect(consumer.partitionWaits()).toEqual([expect.objectContaining({ topic, partition: 0, seconds: 0, lastError: null })]);
    // Nothing went to the dead-letter topic.
    const admin = ctx.kafka.admin();
    await admin.connect();
    const [dlq] = await admin.fetchTopicOffsets(`${topic}.dlq`);
    await admin.disconnect();
    expect(dlq.high).toBe('0');
  }, 120000);
});
