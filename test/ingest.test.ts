import { topicNames } from '@flywheel/contracts';
import { CreatedProject } from '@flywheel/database';
import { AppProcess, TestContext, get, post, waitFor } from './support/harness';

/** The ingestion path end to end: HTTP → Kafka → ingest-worker → PostgreSQL, with the real apps as processes. */
describe('feedback ingestion', () => {
  const ctx = new TestContext('ingest');
  let api: AppProcess;
  let project: CreatedProject;
  const t = (s: number) => new Date(Date.UTC(2026, 10, 1, 12, 0, s)).toISOString();

  beforeAll(async () => {
    await ctx.setUp();
    project = await ctx.createProject(4);
    [api] = await Promise.all([ctx.startApi(), ctx.startWorker()]);
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  const stored = (projectId: string) => ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [projectId]);
  const signal = async (projectId: string, videoId: string) => {
    const rows = await ctx.db.query('SELECT * FROM video_user_signals WHERE project_id = $1 AND video_id = $2', [projectId, videoId]);
    return rows;
  };

  it('stores posted generations and events with the right signal state', async () => {
    const generations = ['a', 'b', 'c'].map((v, i) => ({
      videoId: `happy-${v}`, requestId: 'happy-req', prompt: 'A red fox  running', model: 'seedance', modelVersion: '2.0',
      category: 'animals', segment: 'creators', durationMs: 8000, features: [i, 0.5, -1, 2.25],
    }));
    await expect(post(`${api.url}/v1/generations`, project.ingestKey, { generations })).resolves.toMatchObject({ status: 202, body: { accepted: 3 } });
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM generations WHERE project_id = $1', [project.projectId])) === 3, 15000, 'generations');

    const batch = [
      { eventId: 'h1', type: 'impression', videoId: 'happy-a', userId: 'u1', occurredAt: t(0) },
      { eventId: 'h2', type: 'progress', videoId: 'happy-a', userId: 'u1', occurredAt: t(1), watchMs: 6000, durationMs: 8000 },
      { eventId: 'h3', type: 'like', videoId: 'happy-a', userId: 'u1', occurredAt: t(2) },
      { eventId: 'h4', type: 'rate', videoId: 'happy-a', userId: 'u1', occurredAt: t(3), rating: 4, dimension: 'visual_quality' },
      { eventId: 'h5', type: 'choose', videoId: 'happy-a', userId: 'u1', occurredAt: t(4), requestId: 'happy-req' },
      { eventId: 'h6', type: 'favorite', videoId: 'happy-b', userId: 'u1', occurredAt: t(5) },
      { eventId: 'h7', type: 'unfavorite', videoId: 'happy-b', userId: 'u1', occurredAt: t(6) },
      { eventId: 'h8', type: 'regenerate', videoId: 'happy-c', userId: 'u2', occurredAt: t(7) },
      { eventId: 'h9', type: 'export', videoId: 'happy-a', userId: 'u2', occurredAt: t(8) },
    ];
    await expect(post(`${api.url}/v1/events`, project.ingestKey, { events: batch })).resolves.toMatchObject({ status: 202, body: { accepted: 9 } });
    await waitFor(async () => (await stored(project.projectId)) === 9, 15000, 'events stored');

    const [generation] = await ctx.db.query('SELECT prompt_norm, features FROM generations WHERE project_id = $1 AND video_id = $2', [project.projectId, 'happy-a']);
    expect(generation).toEqual({ prompt_norm: 'a red fox running', features: [0, 0.5, -1, 2.25] });

    const [a1] = (await signal(project.projectId, 'happy-a')).filter((r: any) => r.event_count === 5);
    expect(a1).toMatchObject({ impressed: true, played: true, liked: true, chosen: true, rating: null, event_count: 5 });
    expect(a1.dimension_ratings).toEqual({ visual_quality: 4 });
    expect(a1.max_watch_ratio).toBeCloseTo(0.75, 5);
    const b = await signal(project.projectId, 'happy-b');
    expect(b).toHaveLength(1);
    expect(b[0]).toMatchObject({ favorited: false, passed_over: true, event_count: 2 });
    const c = await signal(project.projectId, 'happy-c');
    expect(c.map((r: any) => [r.regenerated, r.passed_over]).sort()).toEqual([[false, true], [true, false]]);

    // Raw user ids never reach the database (invariant 5).
    await expect(ctx.count(`SELECT count(*) FROM feedback_events WHERE user_hash IN ('u1', 'u2')`)).resolves.toBe(0);
  }, 60000);

  it('stores an eventId once: twice in one batch, in two batches, and again after the api restarts', async () => {
    const p = await ctx.createProject(4);
    const like = (eventId: string) => ({ eventId, type: 'like', videoId: 'dup-v', userId: 'dup-u', occurredAt: t(10) });
    const share = (eventId: string) => ({ eventId, type: 'share', videoId: 'dup-v', userId: 'dup-u', occurredAt: t(11) });
    await expect(post(`${api.url}/v1/events`, p.ingestKey, { events: [like('d1'), like('d1'), share('d2')] })).resolves.toMatchObject({ status: 202 });
    await expect(post(`${api.url}/v1/events`, p.ingestKey, { events: [like('d1'), share('d2')] })).resolves.toMatchObject({ status: 202 });

    await ctx.stopApp(api);
    api = await ctx.startApi();
    await expect(post(`${api.url}/v1/events`, p.ingestKey, { events: [like('d1'), share('d2'), share('d3')] })).resolves.toMatchObject({ status: 202 });

    await waitFor(async () => (await stored(p.projectId)) === 3, 15000, 'three unique events');
    // A sentinel posted last proves the replays were consumed too before we look at the counts.
    await post(`${api.url}/v1/events`, p.ingestKey, { events: [{ ...share('sentinel'), videoId: 'dup-sentinel' }] });
    await waitFor(async () => (await stored(p.projectId)) === 4, 15000, 'sentinel');
    const rows = await signal(p.projectId, 'dup-v');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ liked: true, shared: true, event_count: 3 });
  }, 60000);

  it('sends a poison message to the DLQ with its reason and persists the messages after it', async () => {
    const p = await ctx.createProject(4);
    const topics = topicNames(ctx.prefix);
    const producer = ctx.kafka.producer();
    await producer.connect();
    const good = (i: number) => JSON.stringify({
      v: 1, projectId: p.projectId, eventId: `after-${i}`, type: 'play', videoId: 'poison-v', userHash: 'h',
      occurredAt: t(20), receivedAt: t(20),
    });
    await producer.send({
      topic: topics.events,
      messages: [
        { key: `${p.projectId}:poison-v`, value: '{"this is": not json' },
        { key: `${p.projectId}:poison-v`, value: JSON.stringify({ v: 1, projectId: p.projectId, eventId: 'bad-type', type: 'explode', videoId: 'poison-v', userHash: 'h', occurredAt: t(20), receivedAt: t(20) }) },
        ...[0, 1, 2].map((i) => ({ key: `${p.projectId}:poison-v`, value: good(i) })),
      ],
    });
    await producer.disconnect();
    await waitFor(async () => (await stored(p.projectId)) === 3, 15000, 'messages after the poison');

    const letters: any[] = [];
    const consumer = ctx.kafka.consumer({ groupId: `${ctx.prefix}-dlq-reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.eventsDlq, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { letters.push(JSON.parse(message.value!.toString())); } });
    await waitFor(async () => letters.length >= 2, 20000, 'dead letters');
    await consumer.disconnect();
    const reasons = letters.map((l) => l.reason);
    expect(reasons).toEqual(expect.arrayContaining(['not valid JSON', expect.stringMatching(/^type must be one of: impression/)]));
    const raw = Buffer.from(letters.find((l) => l.reason === 'not valid JSON').rawPayload, 'base64').toString();
    expect(raw).toBe('{"this is": not json');
    expect(letters[0]).toMatchObject({ topic: topics.events, partition: expect.any(Number), offset: expect.any(String), failedAt: expect.any(String) });
  }, 60000);

  describe('auth', () => {
    it('answers 401 without a key or with an unknown one', async () => {
      const body = { events: [{ eventId: 'x', type: 'like', videoId: 'v', userId: 'u', occurredAt: t(0) }] };
      await expect(post(`${api.url}/v1/events`, null, body)).resolves.toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
      await expect(post(`${api.url}/v1/events`, 'fw_ingest_nope', body)).resolves.toMatchObject({ status: 401 });
    });

    it('forbids an ingest key to read (403) and lets the secret key read', async () => {
      await expect(get(`${api.url}/v1/videos/happy-a`, project.ingestKey)).resolves.toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
      await expect(get(`${api.url}/v1/videos/happy-a`, project.secretKey)).resolves.toMatchObject({ status: 200, body: { videoId: 'happy-a', viewers: 2 } });
    });

    it("keeps project A's key away from project B's data", async () => {
      const other = await ctx.createProject(4, 'other');
      await expect(get(`${api.url}/v1/videos/happy-a`, other.secretKey)).resolves.toMatchObject({ status: 404 });
      // Writing with B's key lands in B, never in A.
      const before = await stored(project.projectId);
      const body = { events: [{ eventId: 'h1', type: 'dislike', videoId: 'happy-a', userId: 'u1', occurredAt: t(30) }] };
      await expect(post(`${api.url}/v1/events`, other.ingestKey, body)).resolves.toMatchObject({ status: 202 });
      await waitFor(async () => (await stored(other.projectId)) === 1, 15000, 'B stored');
      await expect(stored(project.projectId)).resolves.toBe(before);
      const [a] = (await signal(project.projectId, 'happy-a')).filter((r: any) => r.event_count === 5);
      expect(a.disliked).toBe(false);
    }, 30000);
  });

  it('serves the OpenAPI document and readiness', async () => {
    await expect(get(`${api.url}/docs/openapi.json`, null)).resolves.toMatchObject({ status: 200, body: { paths: expect.objectContaining({ '/v1/events': expect.anything() }) } });
    await expect(get(`${api.url}/health/ready`, null)).resolves.toMatchObject({ status: 200, body: { checks: { database: 'ok', kafka: 'ok' } } });
  });

  it('counts accepted requests in Prometheus metrics', async () => {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    expect(text).toMatch(/flywheel_events_accepted_total \d+/);
    expect(Number(/flywheel_events_accepted_total (\d+)/.exec(text)![1])).toBeGreaterThan(0);
    expect(text).toContain('flywheel_http_request_duration_seconds_bucket');
  });

  it("accepts a batch on a topic that takes less per message than the api's chunks (max.message.bytes 20 kB): the chunks are halved until they fit", async () => {
    const { events: topic } = topicNames(ctx.prefix);
    const limit = async (value: string | null) => {
      const admin = ctx.kafka.admin();
      await admin.connect();
      try {
        const configEntries = value === null ? [] : [{ name: 'max.message.bytes', value }];
        // alterConfigs replaces the topic's overrides: none given restores the broker's default.
        await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2 /* TOPIC */, name: topic, configEntries }] });
      } finally {
        await admin.disconnect();
      }
    };
    await limit('20000');
    try {
      const before = await stored(project.projectId);
      // 300 events of ~250 bytes each: 75 kB per partition's record batch at most, over the topic's 20 kB.
      const events = Array.from({ length: 300 }, (_, i) => ({ eventId: `small-limit-${i}`, type: 'impression', videoId: `small-limit-video-${i % 7}`, userId: `u${i}`, occurredAt: t(i % 60) }));
      await expect(post(`${api.url}/v1/events`, project.ingestKey, { events })).resolves.toMatchObject({ status: 202, body: { accepted: 300 } });
      await waitFor(async () => (await stored(project.projectId)) === before + 300, 30000, 'the 300 events stored');
    } finally {
      await limit(null);
    }
  }, 60000);
});
