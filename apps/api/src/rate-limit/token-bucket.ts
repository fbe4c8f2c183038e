export interface BucketLimit {
  perSecond: number;
  burst: number;
}

export type Take = { ok: true } | { ok: false; retryAfterSeconds: number; tooLarge: boolean };

/**
 * A token bucket: `perSecond` tokens flow in continuously, at most `burst` are kept. A request takes all of its cost
 * or nothing, so a refused batch leaves the bucket as it was (nothing is half-accepted).
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(private limit: BucketLimit, now: number) {
    this.tokens = limit.burst;
    this.refilledAt = now;
  }

  /** A changed limit (the project's settings changed) applies from now on, without refilling the bucket. */
  setLimit(limit: BucketLimit): void {
    if (limit.perSecond === this.limit.perSecond && limit.burst === this.limit.burst) return;
    this.limit = limit;
    this.tokens = Math.min(this.tokens, limit.burst);
  }

  take(cost: number, now: number): Take {
    if (this.limit.perSecond === 0) return { ok: true };
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.limit.perSecond);
    this.refilledAt = now;
    if (cost > this.limit.burst) {
      // It could never pass: waiting would not help, the batch must be smaller.
      return { ok: false, retryAfterSeconds: 0, tooLarge: true };
    }
    if (this.tokens >= cost) {
      this.tokens -= cost;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((cost - this.tokens) / this.limit.perSecond)), tooLarge: false };
  }
}
