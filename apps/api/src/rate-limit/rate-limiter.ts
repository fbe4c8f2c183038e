import { Inject, Injectable } from '@nestjs/common';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { KeyOwner } from '@flywheel/database';
import { BucketLimit, Take, TokenBucket } from './token-bucket';

const MAX_BUCKETS = 100_000;

/**
 * One token bucket per API key, in this api process: the project's own limit for the key's kind, else the api's
 * default. With several api processes behind a balancer each enforces the limit on the traffic it sees.
 */
@Injectable()
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(@Inject(FLYWHEEL_CONFIG) private readonly config: FlywheelConfig) {}

  take(owner: KeyOwner, cost: number, now = Date.now()): Take {
    const limit = this.limitOf(owner);
    let bucket = this.buckets.get(owner.keyId);
    if (!bucket) {
      // Full buckets of idle keys are all a reset loses: dropping them all is the simple bound on memory.
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
      bucket = new TokenBucket(limit, now);
      this.buckets.set(owner.keyId, bucket);
    } else {
      bucket.setLimit(limit);
    }
    return bucket.take(cost, now);
  }

  limitOf(owner: KeyOwner): BucketLimit {
    return owner.rateLimits?.[owner.kind] ?? this.config.api.rateLimits[owner.kind];
  }
}
