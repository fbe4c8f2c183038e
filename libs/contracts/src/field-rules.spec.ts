import { decodeFeedbackEvent, decodeGeneration } from './decode';
import { parseFeedbackBatch, toEventMessage } from './feedback-batch';
import { canonicalMs, lengthProblem, timestampProblem } from './field-rules';
import { parseGenerationBatch, toGenerationMessage } from './generation-batch';

const projectId = '7d0c4a52-1b1e-4c55-9f3e-0c1f2b3a4d5e';
const event = { eventId: 'e1', type: 'rate', videoId: 'v1', userId: 'u1', occurredAt: '2026-01-01T00:00:00Z', rating: 4 };
const generation = { videoId: 'g1', requestId: 'r1', prompt: 'a cat', model: 'm', modelVersion: '1', features: [0.5, -1] };

describe('field rules', () => {
  it('count lengths in code points: 128 emoji is an id, 129 is not', () => {
    expect(lengthProblem('🐈'.repeat(128), 1, 128)).toBeNull();
    expect(lengthProblem('🐈'.repeat(129), 1, 128)).toBe('must be 1 to 128 characters long');
    expect(lengthProblem('x'.repeat(129), 1, 128)).toBe('must be 1 to 128 characters long');
    expect(lengthProblem('', 1, 128)).toBe('must be 1 to 128 characters long');
    expect(lengthProblem('', 0, 10)).toBeNull();
  });

  it.each([
    ['2026-01-01T00:00:00Z', null],
    ['2026-01-01T00:00:00.123456+14:00', null],
    ['2026-01-01T00:00-12:00', null],
    ['2026-01-01T00:00:00+1400', null],
    ['2026-01-01T00:00:00+14:01', 'has a time zone offset beyond ±14:00'],
    ['2026-01-01T00:00:00+05:60', 'has a time zone offset beyond ±14:00'],
    ['2026-01-01T00:00:00.1234567Z', 'must be an ISO-8601 timestamp'],
    ['+300000-01-01T00:00:00Z', 'must be an ISO-8601 timestamp'],
    ['2026-02-29T00:00:00Z', 'is not a valid date'],
    ['2026-01-01T00:00:00', 'must be an ISO-8601 timestamp'],
  ])('timestamp %s: %s', (value, problem) => {
    const found = timestampProblem(value, Date.UTC(2026, 5, 1));
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });

  it('reads exactly the strings Date#toISOString writes, to the same instant (seeded random and mutated strings)', () => {
    /** The definition the fast reader replaces: a string is canonical when Date.parse and toISOString give it back. */
    const roundTrip = (v: string): number => {
      const ms = Date.parse(v);
      return !Number.isNaN(ms) && new Date(ms).toISOString() === v ? ms : NaN;
    };
    let seed = 20261201;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const samples: string[] = ['2024-02-29T23:59:59.999Z', '2023-02-29T00:00:00.000Z', '1900-02-29T00:00:00.000Z', '2000-02-29T12:00:00.000Z',
      '0000-01-01T00:00:00.000Z', '0099-12-31T23:59:59.999Z', '0100-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z',
      '2026-12-01T24:00:00.000Z', '2026-12-01T23:60:00.000Z', '2026-12-01T23:59:60.000Z', '2026-13-01T00:00:00.000Z',
      '2026-00-10T00:00:00.000Z', '2026-04-31T00:00:00.000Z', '2026-12-01T00:00:00.00aZ', '2026-12-01 00:00:00.000Z'];
    const chars = '0123456789-:.TZ +a';
    for (let i = 0; i < 20000; i++) {
      const ms = Math.floor(random() * 253402300800000); // years 1970–9999
      let v = new Date(ms).toISOString();
      if (i % 2) {
        // Replace one or two characters: most mutants are not canonical, some are other valid instants.
        for (let k = 0; k < 1 + (i % 3 === 0 ? 1 : 0); k++) {
          const at = Math.floor(random() * 24);
          v = v.slice(0, at) + chars[Math.floor(random() * chars.length)] + v.slice(at + 1);
        }
      }
      samples.push(v);
    }
    let canonical = 0;
    for (const v of samples) {
      const expected = roundTrip(v);
      const found = canonicalMs(v);
      if (!Number.isNaN(expected)) canonical++;
      expect([v, found]).toEqual([v, expected]);
    }
    expect(canonical).toBeGreaterThan(10000);
    expect(canonical).toBeLessThan(samples.length - 3000);
  });

  it('checks the window of a repeated timestamp against each call\'s clock (the remembered value changes nothing)', () => {
    const value = '2026-05-31T12:00:00.000Z';
    expect(timestampProblem(value, Date.UTC(2026, 5, 1))).toBeNull();
    expect(timestampProblem(value, Date.UTC(2026, 4, 1))).toContain('more than a day in the future');
    expect(timestampProblem('2026-02-30T00:00:00.000Z', Date.UTC(2026, 5, 1))).toContain('is not a valid date');
    expect(timestampProblem(value, Date.UTC(2026, 5, 1))).toBeNull();
  });

  // The api parses, builds the message and produces it; the worker decodes that message: both must agree.
  it.each([
    ['an emoji id', { videoId: '🐈'.repeat(128) }],
    ['a long emoji id', { videoId: '🐈'.repeat(65) }],
    ['a fractional rating', { rating: 4.5 }],
    ['a rating of 6', { rating: 6 }],
    ['an offset PostgreSQL refuses', { occurredAt: '2026-01-01T00:00:00+23:59' }],
    ['nanoseconds', { occurredAt: '2026-01-01T00:00:00.999999999Z' }],
    ['a bad dimension', { dimension: 'Visual' }],
    ['an empty session', { sessionId: '' }],
    ['a huge watch time', { watchMs: 1e12 }],
    ['a tiny watch time', { watchMs: 1e-300, durationMs: 1 }],
  ])('api and worker agree on an event with %s', (_name, patch) => {
    const parsed = parseFeedbackBatch({ events: [{ ...event, ...patch }] });
    const decoded = decodeFeedbackEvent(JSON.stringify(toEventMessage(projectId, { ...event, ...patch } as never, 'hash', '2026-01-01T00:00:01.000Z')));
    expect(decoded.ok).toBe(parsed.ok);
  });

  it.each([
    ['an emoji id', { videoId: '🐈'.repeat(128) }],
    ['a long emoji id', { videoId: '🐈'.repeat(65) }],
    ['a feature float32 cannot hold', { features: [1e39, 0] }],
    ['a feature that underflows to 0', { features: [1e-50, 0] }],
    ['an empty uri', { uri: '' }],
    ['an empty category', { category: '' }],
    ['a 10,000-emoji prompt', { prompt: '🐈'.repeat(10000) }],
    ['a 10,001-character prompt', { prompt: 'x'.repeat(10001) }],
    ['fps and a frame count', { fps: 23.976, numFrames: 121 }],
    ['fps of 0', { fps: 0 }],
    ['a fractional frame count', { numFrames: 120.5 }],
    ['a string fps', { fps: '24' }],
  ])('api and worker agree on a generation with %s', (_name, patch) => {
    const parsed = parseGenerationBatch({ generations: [{ ...generation, ...patch }] }, 2);
    const decoded = decodeGeneration(JSON.stringify(toGenerationMessage(projectId, { ...generation, ...patch } as never, '2026-01-01T00:00:01.000Z')));
    expect(decoded.ok).toBe(parsed.ok);
  });

  it('takes a declared fps and frame count, optional, and names the field it refuses', () => {
    expect(parseGenerationBatch({ generations: [{ ...generation, fps: 24, numFrames: 121 }] }, 2)).toMatchObject({ ok: true, generations: [{ fps: 24, numFrames: 121 }] });
    expect(parseGenerationBatch({ generations: [generation] }, 2)).toMatchObject({ ok: true });
    const bad = parseGenerationBatch({ generations: [{ ...generation, fps: 0, numFrames: 2.5 }] }, 2);
    expect(bad.ok === false && bad.problems.map((p) => p.problems[0])).toEqual([
      'generations[0].fps must not be less than 0.01', 'generations[0].numFrames must be an integer number',
    ]);
    const decoded = decodeGeneration(JSON.stringify(toGenerationMessage(projectId, { ...generation, fps: 30, numFrames: 90 }, '2026-01-01T00:00:01.000Z')));
    expect(decoded).toMatchObject({ ok: true, value: { fps: 30, numFrames: 90 } });
  });

  it('refuses unknown properties by name, inherited names included', () => {
    const parsed = parseFeedbackBatch({ events: [{ ...event, constructor: 1, toString: 'x' }] });
    expect(parsed.ok === false && parsed.problems.map((p) => p.field)).toEqual(['events[0].constructor', 'events[0].toString']);
  });
});
