// Hot loops call these through module-level bindings rather than `Math.…`: inside a vm context (jest's test
// environment) every global lookup goes through an interceptor, which made these kernels 5× slower under test.
const { imul, floor, sqrt, log, sin, cos, trunc } = Math;
const TWO_PI = 2 * Math.PI;

/**
 * xoshiro128** (Blackman & Vigna), seeded through splitmix32 so that small or similar seeds still give unrelated
 * streams. Everything random in training (initial weights, shuffles) draws from one of these, so a seed fixes the
 * model bit for bit.
 */
export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal = 0;
  private hasSpareNormal = false;

  constructor(seed: number) {
    let x = (trunc(seed) ^ trunc(seed / 0x100000000)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = imul(z ^ (z >>> 16), 0x85ebca6b);
      z = imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextUint32(): number {
    const result = imul(rotl(imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  nextFloat(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    return floor(this.nextFloat() * n);
  }

  /** Standard normal (Box–Muller, the second value of each draw is kept for the next call). */
  nextNormal(): number {
    if (this.hasSpareNormal) {
      this.hasSpareNormal = false;
      return this.spareNormal;
    }
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const radius = sqrt(-2 * log(u));
    this.spareNormal = radius * sin(TWO_PI * v);
    this.hasSpareNormal = true;
    return radius * cos(TWO_PI * v);
  }

  /** In-place Fisher–Yates shuffle of the first `length` entries. */
  shuffle(values: Int32Array, length = values.length): void {
    for (let i = length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
