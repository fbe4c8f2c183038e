import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('starts full, takes whole costs only, and refills at the rate', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 20 }, 0);
    expect(bucket.take(15, 0)).toEqual({ ok: true });
    // 5 left: a cost of 6 is refused whole and leaves the 5 in place.
    expect(bucket.take(6, 0)).toEqual({ ok: false, retryAfterSeconds: 1, tooLarge: false });
    expect(bucket.take(5, 0)).toEqual({ ok: true });
    expect(bucket.take(1, 0)).toMatchObject({ ok: false });
    expect(bucket.take(10, 1000)).toEqual({ ok: true });
    expect(bucket.take(20, 1000)).toEqual({ ok: false, retryAfterSeconds: 2, tooLarge: false });
    expect(bucket.take(20, 3000)).toEqual({ ok: true });
  });

  it('never holds more than the burst', () => {
    const bucket = new TokenBucket({ perSecond: 100, burst: 20 }, 0);
    expect(bucket.take(20, 3_600_000)).toEqual({ ok: true });
    expect(bucket.take(1, 3_600_000)).toMatchObject({ ok: false });
  });

  it('says when a cost can never pass, and lets everything through at 0 per second', () => {
    expect(new TokenBucket({ perSecond: 10, burst: 20 }, 0).take(21, 0)).toEqual({ ok: false, retryAfterSeconds: 0, tooLarge: true });
    const unlimited = new TokenBucket({ perSecond: 0, burst: 1 }, 0);
    for (let i = 0; i < 100; i++) expect(unlimited.take(1000, 0)).toEqual({ ok: true });
  });

  it('applies a lowered limit at once, without refilling', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 100 }, 0);
    bucket.setLimit({ perSecond: 1, burst: 5 });
    expect(bucket.take(5, 0)).toEqual({ ok: true });
    expect(bucket.take(1, 0)).toEqual({ ok: false, retryAfterSeconds: 1, tooLarge: false });
  });
});
