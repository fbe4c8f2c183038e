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

  it('answers 400 naming the depth for JSON nested 5,000 levels deep, on every route with a body (no stack overflow)', async () => {
    const deep = `{"events":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    for (const [path, key] of [['/v1/events', project.ingestKey], ['/v1/preference-sets', project.secretKey], ['/v1/score', null]] as const) {
      const response = await post(`${api.url}${path}`, key, deep, true);
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^events(\[0\])+ nests deeper than 32 levels$/), details: [{ field: expect.stringMatching(/^events\[0\]/) }] });
    }
  });

  it('caps the error of 25,000 unknown properties: the first 20 and a count, in a few KB', async () => {
    const event: Record<string, unknown> = { ...ok };
    for (let i = 0; i < 25_000; i++) event[`p${i.toString(36)}`] = 0; // under this api's 256 KiB body limit
    const response = await fetch(`${api.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${project.ingestKey}` }, body: JSON.stringify({ events: [event] }) });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text.length).toBeLessThan(8192);
    const { error } = JSON.parse(text);
    expect(error.message).toBe('property events[0].p0 should not exist (and 24999 more)');
    expect(error.details).toHaveLength(20);
  });

  it.each(['/v1/models/train', '/v1/preference-sets'])('refuses a null or non-object body on %s with 400', async (path) => {
    for (const raw of ['null', '[]', '"x"', '42']) {
      const response = await post(`${api.url}${path}`, project.secretKey, raw, true);
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'body', problems: [expect.stringMatching(/^body must be a JSON object/)] }] });
    }
  });

  it('answers errors before any route in the documented shape: bad percent-encoding, overlong parameters, unknown routes, bad JSON', async () => {
    const shaped = (response: { status: number; body: any }, status: number, code: string) => {
      expect(response.status).toBe(status);
      expect(response.body.error).toEqual({ code, message: expect.any(String), details: expect.anything() });
    };
    shaped(await get(`${api.url}/v1/videos/%E0%A4%A`, project.secretKey), 400, 'VALIDATION_FAILED');
    shaped(await get(`${api.url}/v1/videos/${'x'.repeat(5000)}`, project.secretKey), 400, 'VALIDATION_FAILED');
    // A valid id of 128 four-byte characters is 1,536 characters percent-encoded: it reaches the route.
    shaped(await get(`${api.url}/v1/videos/${encodeURIComponent('🐈'.repeat(128))}`, project.secretKey), 404, 'NOT_FOUND');
    shaped(await get(`${api.url}/v1/nope`, project.secretKey), 404, 'NOT_FOUND');
    shaped(await post(`${api.url}/v1/events`, project.ingestKey, '{"events": [', true), 400, 'VALIDATION_FAILED');
    const put = await fetch(`${api.url}/v1/events`, { method: 'PUT' });
    shaped({ status: put.status, body: await put.json() }, 404, 'NOT_FOUND');
  });

  it('answers what the HTTP parser refuses in the documented shape', async () => {
    const { connect } = await import('node:net');
    const port = Number(new URL(api.url).port);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => { text += chunk; });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(raw.split('\r\n\r\n')[1])).toEqual({ error: { code: 'BAD_REQUEST', message: 'malformed HTTP request', details: { parserError: 'HPE_INVALID_HEADER_TOKEN' } } });
  });
});
