import { AppProcess, TestContext, call, waitFor } from './support/harness';

const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
const DEFAULT_ORIGIN = 'https://default.example';
const OWN_ORIGIN = 'https://editor.example';
const OCCURRED_AT = '2026-11-01T12:00:00Z';

const batch = (tag: string, n: number, videoId = 'v1') => ({
  events: Array.from({ length: n }, (_, i) => ({ eventId: `${tag}-${i}`, type: 'play', videoId, userId: `u${i % 5}`, occurredAt: OCCURRED_AT })),
});

/**
 * Browser apps on other origins: preflights answered for the ingest routes, each project's own origins enforced,
 * read routes same-origin. Rate limits per key: over → 429 with Retry-After and nothing accepted; a noisy key does
 * not starve another project's key.
 */
describe('CORS and rate limits', () => {
  const ctx = new TestContext('cors');
  let api: AppProcess;
  let own: { projectId: string; ingestKey: string; secretKey: string };
  let plain: { projectId: string; ingestKey: string; secretKey: string };

  beforeAll(async () => {
    await ctx.setUp();
    [api] = await Promise.all([
      ctx.startApi({ FLYWHEEL_ADMIN_TOKEN: ADMIN_TOKEN, CORS_INGEST_ORIGINS: DEFAULT_ORIGIN, API_KEY_CACHE_TTL_MS: '1000' }),
      ctx.startWorker(),
    ]);
    const make = async (body: object) => (await call('POST', `${api.url}/v1/admin/projects`, ADMIN_TOKEN, { featureDim: 4, ...body })).body;
    own = await make({ name: 'own-origins', allowedOrigins: [OWN_ORIGIN] });
    plain = await make({ name: 'default-origins' });
  }, 90000);
  afterAll(() => ctx.tearDown(), 30000);

  const preflight = (path: string, origin: string) => call('OPTIONS', `${api.url}${path}`, null, undefined, {
    origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type',
  });
  const postFrom = (origin: string, key: string, body: unknown) => call('POST', `${api.url}/v1/events`, key, body, { origin });

  it('answers the preflight of an ingest route for an allowed origin, without credentials', async () => {
    for (const origin of [OWN_ORIGIN, DEFAULT_ORIGIN]) {
      const answer = await preflight('/v1/events', origin);
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
      expect(answer.headers.get('access-control-allow-methods')).toContain('POST');
      expect(answer.headers.get('access-control-allow-headers')).toMatch(/authorization.*content-type/);
      expect(answer.headers.get('access-control-max-age')).not.toBeNull();
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
      expect(answer.headers.get('vary')).toContain('Origin');
    }
    await expect(preflight('/v1/generations', OWN_ORIGIN)).resolves.toMatchObject({ status: 204 });
  });

  it('refuses the preflight of an unknown origin, and of read routes (same-origin unless configured)', async () => {
    const evil = await preflight('/v1/events', 'https://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(evil.body.error.message).toContain('allowedOrigins');
    const read = await preflight('/v1/metrics/satisfaction', OWN_ORIGIN);
    expect(read.status).toBe(403);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("checks the request's origin against its own project's list, and lets a browser read 4xx bodies", async () => {
    const accepted = await postFrom(OWN_ORIGIN, own.ingestKey, batch('own', 2));
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('access-control-allow-origin')).toBe(OWN_ORIGIN);
    expect(accepted.headers.get('access-control-expose-headers')).toContain('Retry-After');
    // The project lists its own origins: the api default does not apply to it.
    await expect(postFrom(DEFAULT_ORIGIN, own.ingestKey, batch('own-x', 1))).resolves.toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    // A project without a list gets the default.
    await expect(postFrom(DEFAULT_ORIGIN, plain.ingestKey, batch('plain', 1))).resolves.toMatchObject({ status: 202 });
    await expect(postFrom(OWN_ORIGIN, plain.ingestKey, batch('plain-x', 1))).resolves.toMatchObject({ status: 403 });
    const invalid = await postFrom(OWN_ORIGIN, own.ingestKey, { events: [{ eventId: 'x' }] });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('access-control-allow-origin')).toBe(OWN_ORIGIN);
    // A read route answers without CORS headers: the browser keeps its answer from another origin's page.
    const read = await call('GET', `${api.url}/v1/project`, own.secretKey, undefined, { origin: OWN_ORIGIN });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a project changes its origins with its secret key; a bad origin is a 400 naming the field', async () => {
    const bad = await call('PATCH', `${api.url}/v1/project`, plain.secretKey, { allowedOrigins: ['editor.example'] });
    expect(bad).toMatchObject({ status: 400, body: { error: { details: [{ field: 'allowedOrigins' }] } } });
    const changed = await call('PATCH', `${api.url}/v1/project`, plain.secretKey, { allowedOrigins: ['https://new.example'] });
    expect(changed).toMatchObject({ status: 200, body: { allowedOrigins: ['https://new.example'] } });
    await expect(postFrom('https://new.example', plain.ingestKey, batch('new', 1))).resolves.toMatchObject({ status: 202 });
    // The preflight learns the new origin within the cache TTL.
    await waitFor(async () => (await preflight('/v1/events', 'https://new.example')).status === 204, 15000, 'preflight for the new origin');
  });

  it('over the limit: 429 with Retry-After and nothing of the batch accepted; another project is not starved', async () => {
    const noisy = (await call('POST', `${api.url}/v1/admin/projects`, ADMIN_TOKEN, {
      name: 'noisy', featureDim: 4, rateLimits: { ingest: { perSecond: 50, burst: 800 } },
    })).body;
    const quiet = (await call('POST', `${api.url}/v1/admin/projects`, ADMIN_TOKEN, { name: 'quiet', featureDim: 4 })).body;
    const post = (key: string, body: unknown) => call('POST', `${api.url}/v1/events`, key, body);

    await expect(post(noisy.ingestKey, batch('first', 800))).resolves.toMatchObject({ status: 202 });
    const over = await post(noisy.ingestKey, batch('refused', 500));
    expect(over.status).toBe(429);
    expect(over.body.error).toMatchObject({ code: 'RATE_LIMITED', details: { perSecond: 50, burst: 800 } });
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // A batch larger than the bucket could never pass: it is told to shrink, not to wait.
    await expect(post(noisy.ingestKey, batch('huge', 1000))).resolves.toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });

    // The noisy key floods from four clients while the quiet project's key sends its batches.
    let flooding = true;
    const statuses = new Map<number, number>();
    const flood = async (c: number) => {
      for (let i = 0; flooding; i++) {
        const { status } = await post(noisy.ingestKey, batch(`flood-${c}-${i}`, 200));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    const flooders = [0, 1, 2, 3].map(flood);
    const quietStatuses: number[] = [];
    for (let i = 0; i < 20; i++) quietStatuses.push((await post(quiet.ingestKey, batch(`quiet-${i}`, 100, 'q1'))).status);
    flooding = false;
    await Promise.all(flooders);
    expect(quietStatuses).toEqual(Array(20).fill(202));
    expect(statuses.get(429) ?? 0).toBeGreaterThan(0);

    // Exactly what got 202 is stored: the quiet project's 2,000 events; none of the refused batch.
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [quiet.projectId])) === 2000, 60000, 'quiet events stored');
    await waitFor(async () => (await ctx.count("SELECT count(*) FROM feedback_events WHERE project_id = $1 AND event_id LIKE 'first-%'", [noisy.projectId])) === 800, 60000, 'first batch stored');
    const floodAccepted = (statuses.get(202) ?? 0) * 200;
    await waitFor(async () => (await ctx.count("SELECT count(*) FROM feedback_events WHERE project_id = $1 AND event_id LIKE 'flood-%'", [noisy.projectId])) === floodAccepted, 60000, 'accepted flood stored');
    await expect(ctx.count("SELECT count(*) FROM feedback_events WHERE project_id = $1 AND event_id LIKE 'refused-%'", [noisy.projectId])).resolves.toBe(0);
  }, 120000);
});
