/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): small, seeded, fast under jest's vm. The one implementation for
 * everything that needs a reproducible stream and not a training-grade one (libs/reward-model `Prng` is that):
 * group sampling in preference sets, fixtures and simulated traffic in specs, tests, benchmarks and evals.
 */
export function mulberry32Uint32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform draws in [0, 1) from mulberry32: the same seed gives the same stream on every run. */
export function mulberry32(seed: number): () => number {
  const next = mulberry32Uint32(seed);
  return () => next() / 4294967296;
}
