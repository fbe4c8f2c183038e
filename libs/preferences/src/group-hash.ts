import { mulberry32Uint32 } from '@flywheel/random';
import { createHash } from 'node:crypto';
import type { PairSplit, SplitRatios } from './preference.types';

const TWO_POW_32 = 0x100000000;

/**
 * A uniform number in [0, 1) fixed by `key` and `seed`: the first 32 bits of sha1(`${seed}:${key}`) over 2³².
 * Reproducible outside Node, e.g. in Python:
 * `int(hashlib.sha1(f"{seed}:{key}".encode()).hexdigest()[:8], 16) / 2**32`.
 */
export function unitHash(key: string, seed: number): number {
  return createHash('sha1').update(`${seed}:${key}`, 'utf8').digest().readUInt32BE(0) / TWO_POW_32;
}

/** The split of a whole group: u = unitHash(splitKey, seed); train below ratios.train, then validation, then test. */
export function splitOf(splitKey: string, seed: number, ratios: SplitRatios): PairSplit {
  const u = unitHash(splitKey, seed);
  if (u < ratios.train) return 'train';
  if (u < ratios.train + ratios.validation) return 'validation';
  return 'test';
}

/**
 * mulberry32, seeded per group from unitHash(`sample:${groupKey}`, seed): the sampling of one group does not depend
 * on which other groups exist or in which order they come.
 */
export class GroupSampler {
  private readonly nextUint32: () => number;

  constructor(groupKey: string, seed: number) {
    this.nextUint32 = mulberry32Uint32((unitHash(`sample:${groupKey}`, seed) * TWO_POW_32) >>> 0);
  }

  /** Uniform integer in [0, n), n ≤ 2⁵³. */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  private nextFloat(): number {
    // 53 bits from two 32-bit draws, so n can exceed 2³² (reservoir positions over huge groups).
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

}
