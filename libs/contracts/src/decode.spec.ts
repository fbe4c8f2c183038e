import { decodeFeedbackEvent, decodeGeneration } from './decode';

const projectId = '7d0c4a52-1b1e-4c55-9f3e-0c1f2b3a4d5e';
const event = {
  v: 1, projectId, eventId: 'e1', type: 'like', videoId: 'v1', userHash: 'u1',
  occurredAt: '2026-01-01T00:00:00Z', receivedAt: '2026-01-01T00:00:01.123Z',
};

describe('decodeFeedbackEvent', () => {
  it('accepts a valid event', () => {
    const decoded = decodeFeedbackEvent(Buffer.from(JSON.stringify(event)));
    expect(decoded).toEqual({ ok: true, value: expect.objectContaining({ eventId: 'e1', type: 'like' }) });
  });

  it.each([
    [null, 'empty message'],
    ['{not json', 'not valid JSON'],
    ['[1,2]', 'not a JSON object'],
    [JSON.stringify({ ...event, v: 2 }), 'unsupported contract version 2'],
    [JSON.stringify({ ...event, projectId: 'p' }), 'projectId must be a UUID'],
    [JSON.stringify({ ...event, type: 'poke' }), 'type must be one of: impression'],
    [JSON.stringify({ ...event, eventId: '' }), 'eventId must be 1 to 128 characters long'],
    [JSON.stringify({ ...event, occurredAt: '2026-13-45' }), 'occurredAt must be an ISO-8601 timestamp'],
    [JSON.stringify({ ...event, occurredAt: '1999-01-01T00:00:00Z' }), 'occurredAt is before 2015-01-01'],
    [JSON.stringify({ ...event, occurredAt: '2026-02-29T00:00:00Z' }), 'occurredAt is not a valid date'],
    [JSON.stringify({ ...event, occurredAt: '2026-04-01T24:00:00Z' }), 'occurredAt is not a valid date'],
    [JSON.stringify({ ...event, type: 'rate' }), 'rating is required for a rate event'],
    [JSON.stringify({ ...event, type: 'rate', rating: 9 }), 'rating must not be greater than 5'],
    [JSON.stringify({ ...event, type: 'rate', rating: 4.5 }), 'rating must be an integer number'],
    [JSON.stringify({ ...event, eventId: '🐈'.repeat(129) }), 'eventId must be 1 to 128 characters long'],
    [JSON.stringify({ ...event, occurredAt: '2026-01-01T00:00:00+23:59' }), 'occurredAt has a time zone offset beyond ±14:00'],
    [JSON.stringify({ ...event, occurredAt: '2026-01-01T00:00:00.1234567Z' }), 'occurredAt must be an ISO-8601 timestamp'],
    [JSON.stringify({ ...event, dimension: 'Visual Quality' }), 'dimension must be snake_case'],
    [JSON.stringify({ ...event, userHash: undefined }), 'userHash is required'],
    [JSON.stringify({ ...event, receivedAt: 'now' }), 'receivedAt must be an ISO-8601 timestamp'],
    [JSON.stringify({ ...event, type: 'progress' }), 'watchMs is required for a progress event'],
    [JSON.stringify({ ...event, eventId: 'e\u00001' }), 'eventId must not contain the NUL character (U+0000)'],
    [JSON.stringify({ ...event, requestId: 'r\u0000' }), 'requestId must not contain the NUL character (U+0000)'],
    [JSON.stringify({ ...event, videoId: 'v\ud800' }), 'videoId must be well-formed Unicode (it holds a lone surrogate)'],
  ])('rejects %s with a reason and never throws', (raw, reason) => {
    const decoded = decodeFeedbackEvent(raw as string | null);
    expect(decoded.ok).toBe(false);
    expect(decoded.ok === false && decoded.reason).toContain(reason);
  });
});

describe('decodeGeneration', () => {
  const generation = {
    v: 1, projectId, videoId: 'v1', requestId: 'r1', prompt: 'a cat', model: 'seedance', modelVersion: '1.0',
    features: [0.1, 0.2], createdAt: '2026-01-01T00:00:00Z', receivedAt: '2026-01-01T00:00:00Z',
  };

  it('accepts a valid generation', () => {
    expect(decodeGeneration(JSON.stringify(generation)).ok).toBe(true);
  });

  it('takes 128 emoji as an id (lengths count characters), and nulls as absent', () => {
    const decoded = decodeGeneration(JSON.stringify({ ...generation, videoId: '🐈'.repeat(128), category: null }));
    expect(decoded).toEqual({ ok: true, value: expect.objectContaining({ videoId: '🐈'.repeat(128), category: undefined }) });
  });

  it('refuses a feature float32 cannot hold, and takes one that rounds to a float32 (1e-50 → 0)', () => {
    expect(decodeGeneration(JSON.stringify({ ...generation, features: [0.1, 1e39] }))).toEqual({ ok: false, reason: 'features[1] must be within the float32 range (±3.4028234663852886e+38)' });
    expect(decodeGeneration(JSON.stringify({ ...generation, features: [1e-50, -3.4028235e38] })).ok).toBe(true);
  });

  it('rejects a non-finite feature by index', () => {
    const decoded = decodeGeneration(JSON.stringify({ ...generation, features: [0.1, 'x'] }));
    expect(decoded).toEqual({ ok: false, reason: 'features[1] must be a finite number' });
  });

  it('dead-letters a string PostgreSQL cannot store (U+0000) instead of failing its batch forever', () => {
    expect(decodeGeneration(JSON.stringify({ ...generation, prompt: 'a\u0000cat' }))).toEqual({ ok: false, reason: 'prompt must not contain the NUL character (U+0000)' });
    expect(decodeGeneration(JSON.stringify({ ...generation, uri: 's3://\u0000' }))).toEqual({ ok: false, reason: 'uri must not contain the NUL character (U+0000)' });
  });
});
