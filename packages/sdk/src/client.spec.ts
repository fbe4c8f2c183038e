import { FlywheelClient, FlywheelOptions, retryAfterMs } from './client';
import { MemoryQueueStore } from './memory-store';
import { FlywheelError } from './types';

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

/** A scripted api: answers in order (the last one repeats), records each request's path, key and body. */
function fakeApi(...answers: Answer[]) {
  const requests: { path: string; key: string; body: any; keepalive: boolean }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    requests.push({
      path: new URL(url).pathname, key: (init.headers as Record<string, string>).authorization, body: JSON.parse(init.body as string),
      keepalive: Boolean(init.keepalive),
    });
    const answer = answers[Math.min(requests.length - 1, answers.length - 1)];
    if (answer instanceof Error) throw answer;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status, headers: answer.headers });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, requests, ids: (i: number) => requests[i].body.events.map((e: { eventId: string }) => e.eventId) };
}

const event = (n: number) => ({ eventId: `e${n}`, type: 'like' as const, videoId: 'v1', userId: 'u1', occurredAt: '2026-11-01T12:00:00Z' });

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('FlywheelClient', () => {
  const clients: FlywheelClient[] = [];
  const make = (api: ReturnType<typeof fakeApi>, options: Partial<FlywheelOptions> = {}) => {
    const errors: FlywheelError[] = [];
    const client = new FlywheelClient({
      apiKey: 'fw_ingest_test', endpoint: 'http://api.test', fetch: api.fetch, flushIntervalMs: 60_000, baseRetryDelayMs: 1,
      maxRetryDelayMs: 8, random: () => 0.5, onError: (e) => errors.push(e), ...options,
    });
    clients.push(client);
    return { client, errors };
  };
  afterEach(() => clients.splice(0).forEach((c) => c.close()));

  it('sends a full batch at once and the rest on flush, with the ingest key', async () => {
    const api = fakeApi({ status: 202 });
    const { client } = make(api, { batchSize: 3 });
    for (let i = 0; i < 7; i++) client.track(event(i));
    await until(() => api.requests.length === 2, 'two full batches');
    expect(client.pending()).toBe(1);
    await expect(client.flush()).resolves.toBe(0);
    expect(api.requests.map((r) => r.body.events.length)).toEqual([3, 3, 1]);
    expect(api.requests[0]).toMatchObject({ path: '/v1/events', key: 'Bearer fw_ingest_test', keepalive: false });
  });

  it('sends a partial batch after flushIntervalMs', async () => {
    const api = fakeApi({ status: 202 });
    const { client } = make(api, { batchSize: 100, flushIntervalMs: 20 });
    client.track(event(1));
    await until(() => client.pending() === 0, 'the timed flush');
    expect(api.requests).toHaveLength(1);
  });

  it.each([429, 503])('retries a batch answered %i with the same eventIds, never sooner than Retry-After', async (status) => {
    const api = fakeApi({ status, headers: { 'retry-after': '0.05' }, body: { error: { message: 'not now' } } }, { status: 202 });
    const { client, errors } = make(api, { batchSize: 2 });
    client.track(event(1));
    client.track(event(2));
    await until(() => client.pending() === 0, 'the retry');
    expect(api.ids(1)).toEqual(api.ids(0));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'RETRYING', details: { status } });
    expect(errors[0].details.retryInMs).toBeGreaterThanOrEqual(50);
  });

  it('backs off exponentially with jitter up to the ceiling, then recovers', async () => {
    const api = fakeApi(new Error('offline'), new Error('offline'), new Error('offline'), new Error('offline'), new Error('offline'), { status: 202 });
    const { client, errors } = make(api, { batchSize: 1, baseRetryDelayMs: 2, maxRetryDelayMs: 10 });
    client.track(event(1));
    await until(() => client.pending() === 0, 'delivery after five failures');
    // random() = 0.5: three quarters of 2, 4, 8, 10, 10 ms (equal jitter of the doubled base, capped).
    expect(errors.map((e) => e.details.retryInMs)).toEqual([1.5, 3, 6, 7.5, 7.5]);
    expect(new Set(api.requests.map((r) => JSON.stringify(r.body)))).toEqual(new Set([JSON.stringify(api.requests[0].body)]));
  });

  it('drops exactly the events a 400 names, reports them, and delivers the rest', async () => {
    const api = fakeApi(
      { status: 400, body: { error: { code: 'VALIDATION_FAILED', message: 'events[1].videoId is bad', details: [{ field: 'events[1].videoId', problems: ['bad'] }] } } },
      { status: 202 },
    );
    const { client, errors } = make(api, { batchSize: 3 });
    [1, 2, 3].forEach((n) => client.track(event(n)));
    await until(() => client.pending() === 0, 'the rest delivered');
    expect(api.ids(1)).toEqual(['e1', 'e3']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'INVALID', details: { status: 400, items: [{ id: 'e2' }] } });
  });

  it('stops on a refused key without dropping the queue, and resumes with a new key', async () => {
    const api = fakeApi({ status: 401, body: { error: { message: 'unknown or revoked API key' } } }, { status: 202 });
    const { client, errors } = make(api, { batchSize: 1 });
    client.track(event(1));
    await until(() => errors.length === 1, 'the rejection');
    expect(errors[0]).toMatchObject({ code: 'REJECTED', message: 'unknown or revoked API key' });
    client.track(event(2));
    await expect(client.flush()).resolves.toBe(2);
    expect(api.requests).toHaveLength(1);
    client.resume('fw_ingest_new');
    await until(() => client.pending() === 0, 'delivery with the new key');
    expect(api.requests[1].key).toBe('Bearer fw_ingest_new');
  });

  it('halves a batch the api finds too large', async () => {
    const api = fakeApi({ status: 413 }, { status: 202 });
    const { client } = make(api, { batchSize: 4 });
    [1, 2, 3, 4].forEach((n) => client.track(event(n)));
    await until(() => client.pending() === 0, 'delivery in halves');
    expect(api.requests.map((r) => r.body.events.length)).toEqual([4, 2, 2]);
  });

  it('validates at track(), fills in eventId and occurredAt, and queues one eventId once', () => {
    const { client } = make(fakeApi({ status: 202 }), { maxQueueSize: 2 });
    expect(() => client.track({ type: 'rate', videoId: 'v', userId: 'u', rating: 9 })).toThrow(/rating must not be greater than 5/);
    expect(() => client.track({ type: 'poke' as 'like', videoId: 'v', userId: 'u' })).toThrow(FlywheelError);
    const id = client.track({ type: 'play', videoId: 'v', userId: 'u' });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    client.track(event(1));
    client.track(event(1));
    expect(client.pending()).toBe(2);
    expect(() => client.track(event(2))).toThrow(expect.objectContaining({ code: 'QUEUE_FULL' }));
  });

  it('picks up what another client left in the store', async () => {
    const store = new MemoryQueueStore();
    const first = make(fakeApi(new Error('offline')), { store, batchSize: 1, baseRetryDelayMs: 60_000, maxRetryDelayMs: 60_000 });
    first.client.track(event(1));
    await until(() => first.errors.length === 1, 'the first failure');
    first.client.close();
    const api = fakeApi({ status: 202 });
    const second = make(api, { store });
    await until(() => second.client.pending() === 0, 'delivery by the second client');
    expect(api.ids(0)).toEqual(['e1']);
    expect(store.load()).toEqual([]);
  });

  it('registers generations on their own route', async () => {
    const api = fakeApi({ status: 202 });
    const { client } = make(api);
    client.track(event(1));
    client.registerGenerations([{ videoId: 'g1', requestId: 'r', prompt: 'p', model: 'm', modelVersion: '1', features: [1, 2] }]);
    expect(() => client.registerGenerations([{ videoId: 'g2', features: [NaN] } as never])).toThrow(/features/);
    await client.flush();
    expect(api.requests.map((r) => r.path).sort()).toEqual(['/v1/events', '/v1/generations']);
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(retryAfterMs('5')).toBe(5000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs('soon')).toBeNull();
  });
});
