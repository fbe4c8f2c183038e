import { Prng } from './prng';
import { PAIR_SPLIT, type PreferencePairs } from './reward-model.types';

// Module-level bindings, not `Math.…` in the loops: global lookups are slow inside jest's vm context.
const { exp, sin } = Math;
/** Standard deviation of sin(2z) for z ~ N(0, 1): Var = (1 − e^{−8})/2. */
const SINE_STD = Math.sqrt((1 - Math.exp(-8)) / 2);

export type SyntheticTruth = 'linear' | 'nonlinear';

export interface SyntheticPreferencesOptions {
  nItems: number;
  nPairs: number;
  dim: number;
  truth: SyntheticTruth;
  seed: number;
  /** Scale of the latent reward; larger means less noisy outcomes. Default 1.5. */
  strength?: number;
  /** Shares of validation and test pairs (split codes 1 and 2); the rest is train. Default 0.05 and 0.1. */
  validationShare?: number;
  testShare?: number;
  /** Share of pairs whose outcome is replaced by a tie (0.5). Default 0. */
  tieShare?: number;
}

export interface SyntheticPreferences {
  features: Float32Array;
  nItems: number;
  dim: number;
  /** The latent reward of each item. */
  truth: Float32Array;
  /** Unit-norm direction of the linear part of the truth, in standardised feature space. */
  direction: Float32Array;
  pairs: Required<PreferencePairs>;
  split: Uint8Array;
}

/**
 * Items with a known latent reward and pairs whose outcomes are drawn from the Bradley–Terry probability of that
 * reward, for tests and benchmarks. Features are z·scale + offset with per-feature scales and offsets, so
 * standardisation matters; the truth is a function of z. The non-linear truth adds feature products and a sine to
 * a linear part, each term of unit variance, which no linear model can capture.
 */
export function syntheticPreferences(options: SyntheticPreferencesOptions): SyntheticPreferences {
  const { nItems, nPairs, dim, truth: kind, seed } = options;
  const strength = options.strength ?? 1.5;
  const validationShare = options.validationShare ?? 0.05;
  const testShare = options.testShare ?? 0.1;
  const tieShare = options.tieShare ?? 0;
  const rng = new Prng(seed);

  const direction = new Float32Array(dim);
  let norm = 0;
  for (let k = 0; k < dim; k++) {
    direction[k] = rng.nextNormal();
    norm += direction[k] * direction[k];
  }
  for (let k = 0; k < dim; k++) direction[k] /= Math.sqrt(norm);
  const offset = new Float64Array(dim);
  const scale = new Float64Array(dim);
  for (let k = 0; k < dim; k++) {
    offset[k] = (rng.nextFloat() - 0.5) * 4;
    scale[k] = 0.5 + rng.nextFloat() * 2.5;
  }

  const productTerms = Math.min(4, Math.floor(dim / 2));
  const features = new Float32Array(nItems * dim);
  const truth = new Float32Array(nItems);
  const z = new Float64Array(dim);
  for (let i = 0; i < nItems; i++) {
    let linear = 0;
    for (let k = 0; k < dim; k++) {
      z[k] = rng.nextNormal();
      features[i * dim + k] = z[k] * scale[k] + offset[k];
      linear += direction[k] * z[k];
    }
    if (kind === 'linear') {
      truth[i] = strength * linear;
    } else {
      let products = 0;
      for (let m = 0; m < productTerms; m++) products += z[2 * m] * z[2 * m + 1];
      products /= Math.sqrt(Math.max(productTerms, 1));
      const sine = sin(2 * z[dim - 1]) / SINE_STD;
      truth[i] = strength * (0.6 * linear + 0.6 * products + 0.5 * sine);
    }
  }

  const pairs: Required<PreferencePairs> = {
    a: new Int32Array(nPairs),
    b: new Int32Array(nPairs),
    outcome: new Float32Array(nPairs),
    weight: new Float32Array(nPairs).fill(1),
  };
  const split = new Uint8Array(nPairs);
  for (let p = 0; p < nPairs; p++) {
    const a = rng.nextInt(nItems);
    let b = rng.nextInt(nItems - 1);
    if (b >= a) b++;
    pairs.a[p] = a;
    pairs.b[p] = b;
    const pA = 1 / (1 + exp(truth[b] - truth[a]));
    pairs.outcome[p] = rng.nextFloat() < pA ? 1 : 0;
    if (tieShare > 0 && rng.nextFloat() < tieShare) pairs.outcome[p] = 0.5;
    const u = rng.nextFloat();
    if (u < testShare) split[p] = PAIR_SPLIT.test;
    else if (u < testShare + validationShare) split[p] = PAIR_SPLIT.validation;
    else split[p] = PAIR_SPLIT.train;
  }
  return { features, nItems, dim, truth, direction, pairs, split };
}
