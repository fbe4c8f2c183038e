import { parseFeedbackBatch } from './feedback-batch';

const ok = { eventId: 'e1', type: 'like', videoId: 'v1', userId: 'u1', occurredAt: '2026-11-01T12:00:00Z' };
const messages = (body: unknown) => {
  const result = parseFeedbackBatch(body);
  return result.ok ? [] : result.problems.flatMap((p) => p.problems);
};

describe('parseFeedbackBatch', () => {
  it('accepts a valid batch and keeps the events as sent', () => {
    const progress = { ...ok, eventId: 'e2', type: 'progress', watchMs: 1200, durationMs: 5000, sessionId: 's' };
    expect(parseFeedbackBatch({ events: [ok, progress] })).toEqual({ ok: true, events: [ok, progress] });
  });

  it.each([
    [{ events: [{ ...ok, type: 'rate', rating: 'five' }] }, 'events[0].rating must be an integer number'],
    [{ events: [ok, { ...ok, eventId: undefined }] }, 'events[1].eventId is required'],
    [{ events: [{ ...ok, type: 'poke' }] }, 'events[0].type must be one of: impression'],
    [{ events: [{ ...ok, mood: 1 }] }, 'property events[0].mood should not exist'],
    [{ events: [ok], extra: 1 }, 'property extra should not exist'],
    [{ events: [{ ...ok, type: 'rate', rating: 6 }] }, 'events[0].rating must not be greater than 5'],
    [{ events: [{ ...ok, type: 'rate', rating: 2.5 }] }, 'events[0].rating must be an integer number'],
    [{ events: [{ ...ok, type: 'rate' }] }, 'events[0].rating is required for a rate event'],
    [{ events: [{ ...ok, type: 'progress' }] }, 'events[0].watchMs is required for a progress event'],
    [{ events: [{ ...ok, type: 'progress', watchMs: -1 }] }, 'events[0].watchMs must not be less than 0'],
    [{ events: [{ ...ok, occurredAt: 'yesterday' }] }, 'events[0].occurredAt must be an ISO-8601 timestamp'],
    [{ events: [{ ...ok, occurredAt: '2026-02-30T00:00:00Z' }] }, 'events[0].occurredAt is not a valid date'],
    [{ events: [{ ...ok, dimension: 'Visual Quality' }] }, 'events[0].dimension must be snake_case'],
    [{ events: [{ ...ok, userId: '' }] }, 'events[0].userId must be 1 to 256 characters long'],
    [{ events: [{ ...ok, videoId: 'v\u00001' }] }, 'events[0].videoId must not contain the NUL character (U+0000)'],
    [{ events: [{ ...ok, sessionId: '\u0000' }] }, 'events[0].sessionId must not contain the NUL character (U+0000)'],
    [{ events: [] }, 'events must contain at least 1 elements'],
    [{ event: ok }, 'events must be an array of events'],
    [{ events: Array.from({ length: 1001 }, () => ok) }, 'events must contain no more than 1000 elements'],
    [{ events: [42] }, 'events[0] must be an object'],
    [[ok], 'body must be a JSON object'],
  ])('names the problem: %j', (body, expected) => {
    expect(messages(body).some((m) => m.startsWith(expected))).toBe(true);
  });

  it('reports every problem of every event, not just the first', () => {
    expect(messages({ events: [{ ...ok, type: 'poke' }, { ...ok, videoId: 5 }] })).toHaveLength(2);
  });
});
