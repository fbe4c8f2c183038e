import { createHash } from 'node:crypto';
import { KafkaMessage } from 'kafkajs';
import { DEAD_LETTER_PREFIX_BYTES, DEAD_LETTER_RAW_BYTES, deadLetter } from './batch-consumer';

const where = { topic: 'flywheel.events.v1', partition: 2, failedAt: '2026-12-01T00:00:00.000Z' };
const candidate = (value: Buffer | null) => ({ message: { key: Buffer.from('k'), value, offset: '41' } as KafkaMessage, reason: 'invalid JSON' });

describe('deadLetter', () => {
  it('carries a value up to the limit whole, with the envelope the DLQ has always had', () => {
    const value = Buffer.alloc(DEAD_LETTER_RAW_BYTES, 7);
    const letter = deadLetter(candidate(value), where, DEAD_LETTER_RAW_BYTES);
    expect(Object.keys(letter)).toEqual(['rawPayload', 'reason', 'topic', 'partition', 'offset', 'failedAt']);
    expect(Buffer.from(letter.rawPayload, 'base64').equals(value)).toBe(true);
    expect(letter).toMatchObject({ reason: 'invalid JSON', offset: '41', ...where });
  });

  it('cuts a value one byte over the limit to a prefix, with its size and digest', () => {
    const value = Buffer.from(Array.from({ length: DEAD_LETTER_RAW_BYTES + 1 }, (_, i) => i % 251));
    const letter = deadLetter(candidate(value), where, DEAD_LETTER_RAW_BYTES);
    expect(letter).toMatchObject({ rawTruncated: true, rawBytes: value.length, rawSha256: createHash('sha256').update(value).digest('hex') });
    expect(Buffer.from(letter.rawPayload, 'base64').equals(value.subarray(0, DEAD_LETTER_PREFIX_BYTES))).toBe(true);
  });

  it('keeps nothing of the value when asked to (the DLQ refused the letter), and an empty value is whole', () => {
    const letter = deadLetter(candidate(Buffer.from('abc')), where, 0);
    expect(letter).toMatchObject({ rawPayload: '', rawTruncated: true, rawBytes: 3 });
    expect(deadLetter(candidate(null), where, 0)).not.toHaveProperty('rawTruncated');
  });
});
