import { CreatedProject } from '@flywheel/database';
import { AppProcess, TestContext, get, post } from './support/harness';

/** Bad input gets a 4xx that names the problem, never a 5xx; the worker never sees it. */
describe('input validation', () => {
  const ctx = new TestContext('validation');
  let api: AppProcess;
  let project: CreatedProject;
  const ok = { eventId: 'e1', type: 'like', videoId: 'v1', userId: 'u1', occurredAt: '2026-11-01T12:00:00Z' };
  const generation = { videoId: 'g1', requestId: 'r1', prompt: 'p', model: 'm', modelVersion: '1', features: [1, 2, 3] };

  beforeAll(async () => {
    await ctx.setUp();
    project = await ctx.createProject(3);
    api = await ctx.startApi({ API_BODY_LIMIT_BYTES: String(256 * 1024) });
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  const events = (body: unknown, raw = false) => post(`${api.url}/v1/events`, project.ingestKey, body, raw);

  it.each([
    ['a wrong type', { events: [{ ...ok, rating: 'five', type: 'rate' }] }, 'events[0].rating'],
    ['a missing field', { events: [ok, { ...ok, eventId: undefined }] }, 'events[1].eventId'],
    ['an unknown event type', { events: [{ ...ok, type: 'poke' }] }, 'events[0].type must be one of'],
    ['an unknown field', { events: [{ ...ok, mood: 'happy' }] }, 'property events[0].mood should not exist'],
    ['an unknown top-level field', { events: [ok], extra: 1 }, 'property extra should not exist'],
    ['a rating out of range', { events: [{ ...ok, type: 'rate', rating: 6 }] }, 'events[0].rating must not be greater than 5'],
    ['a rate without rating', { events: [{ ...ok, type: 'rate' }] }, 'events[0].rating'],
    ['a progress without watchMs', { events: [{ ...ok, type: 'progress' }] }, 'events[0].watchMs'],
    ['a negative watchMs', { events: [{ ...ok, type: 'progress', watchMs: -1 }] }, 'events[0].watchMs must not be less than 0'],
    ['an unparseable timestamp', { events: [{ ...ok, occurredAt: 'yesterday' }] }, 'events[0].occurredAt must be an ISO-8601 timestamp'],
    ['a timestamp without zone', { events: [{ ...ok, occurredAt: '2026-11-01T12:00:00' }] }, 'events[0].occurredAt must be an ISO-8601'],
    ['a timestamp far in the future', { events: [{ ...ok, occurredAt: '2099-01-01T00:00:00Z' }] }, 'events[0].occurredAt is more than a day in the future'],
    ['an impossible date', { events: [{ ...ok, occurredAt: '2026-02-31T00:00:00Z' }] }, 'events[0].occurredAt'],
    ['a NUL character PostgreSQL cannot store', { events: [{ ...ok, videoId: 'v\u0000' }] }, 'events[0].videoId must not contain the NUL character (U+0000)'],
    ['an empty batch', { events: [] }, 'events must contain at least 1 elements'],
    ['no events array', { event: ok }, 'events'],
    ['more than 1,000 events', { events: Array.from({ length: 1001 }, (_, i) => ({ eventId: `${i}`, type: 'play', videoId: 'v', userId: 'u', occurredAt: ok.occurredAt })) }, 'events must contain no more than 1000 elements'],
  ])('rejects %s with 400 naming the field', async (_name, body, expected) => {
    const response = await events(body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(response.body.error)).toContain(expected);
  });

  it('rejects malformed JSON, NaN and Infinity with 400', async () => {
    for (const raw of ['{"events": [', '{"events":[{"eventId":"e","type":"progress","videoId":"v","userId":"u","occurredAt":"2026-11-01T12:00:00Z","watchMs":NaN}]}', '{"events":[{"watchMs":Infinity}]}']) {
      const response = await events(raw, true);
      expect(response.status).toBe(400);
      expect(response.body.error.message).toMatch(/JSON/);
    }
  });

  it('answers 413 for an oversized body', async () => {
    const huge = { events: [{ ...ok, userId: 'x'.repeat(300 * 1024) }] };
    const response = await events(huge);
    expect(response.status).toBe(413);
    expect(response.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('send smaller batches') });
  });

  it.each([
    ['wrong-length features', { generations: [{ ...generation, features: [1, 2] }] }, "generations[0].features must have 3 values (the project's feature dimension), got 2"],
    ['non-numeric features', { generations: [{ ...generation, features: [1, 'x', 3] }] }, 'generations[0].features[1] must be a finite number'],
    ['a missing requestId', { generations: [{ ...generation, requestId: undefined }] }, 'generations[0].requestId'],
    ['an unknown field', { generations: [{ ...generation, colour: 'red' }] }, 'property generations[0].colour should not exist'],
    ['a bad createdAt', { generations: [{ ...generation, createdAt: 1700000000 }] }, 'generations[0].createdAt'],
    ['a NUL character in the prompt', { generations: [{ ...generation, prompt: 'a\u0000cat' }] }, 'generations[0].prompt must not contain the NUL character (U+0000)'],
  ])('rejects generations with %s', async (_name, body, expected) => {
    const response = await post(`${api.url}/v1/generations`, project.ingestKey, body);
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body.error)).toContain(expected);
  });

  it('refuses text PostgreSQL cannot store (U+0000, lone surrogates) anywhere, path, query or body, with 400 naming the field', async () => {
    const cases: [string, Promise<{ status: number; body: any }>][] = [
      ['modelVersion', get(`${api.url}/v1/metrics/satisfaction?modelVersion=a%00b`, project.secretKey)],
      ['videoId', get(`${api.url}/v1/videos/a%00b`, project.secretKey)],
      ['modelVersions[0]', post(`${api.url}/v1/preference-sets`, project.secretKey, { modelVersions: ['gen\u0000'] })],
    ];
    // A lone surrogate is not Unicode: PostgreSQL refuses it too (sent as the JSON escape a client would write).
    const lone = await post(`${api.url}/v1/events`, project.ingestKey, '{"events":[{"eventId":"e\\ud800","type":"like","videoId":"v","userId":"u","occurredAt":"2026-11-20T00:00:00Z"}]}', true);
    expect(lone).toMatchObject({ status: 400, body: { error: { details: [{ field: 'events[0].eventId', problems: ['events[0].eventId must be well-formed Unicode (it holds a lone surrogate)'] }] } } });
    for (const [field, request] of cases) {
      const response = await request;
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field, problems: [`${field} must not contain the NUL character (U+0000)`] }] });
    }
  });

  it('rejects NaN features sent as a JSON literal', async () => {
    const raw = `{"generations":[{"videoId":"g","requestId":"r","prompt":"p","model":"m","modelVersion":"1","features":[1,NaN,3]}]}`;
    await expect(post(`${api.url}/v1/generations`, project.ingestKey, raw, true)).resolves.toMatchObject({ status: 400 });
  });

  it('stores nothing from a rejected batch, even its valid events', async () => {
    await events({ events: [{ ...ok, eventId: 'valid-in-bad-batch' }, { ...ok, type: 'poke' }] });
    // The api never produced it: the topic holds no message at all for this file's prefix.
    const admin = ctx.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(`${ctx.prefix}.flywheel.events.v1`);
    await admin.disconnect();
    expect(offsets.every((o) => o.high === '0')).toBe(true);
  });
});
