import { Prng } from './prng';
import type { RewardModel } from './reward-model.types';

/** A model with random weights and biases, for tests: dims = [inputDim, ...hidden, 1]. */
export function randomRewardModel(dims: number[], seed: number): RewardModel {
  const rng = new Prng(seed);
  const layers = dims.slice(0, -1).map((inDim, l) => {
    const outDim = dims[l + 1];
    return {
      inDim,
      outDim,
      weights: Float32Array.from({ length: inDim * outDim }, () => rng.nextNormal() / Math.sqrt(inDim)),
      bias: Float32Array.from({ length: outDim }, () => rng.nextNormal() * 0.1),
    };
  });
  const hiddenLayers = dims.slice(1, -1);
  return { kind: hiddenLayers.length > 0 ? 'mlp' : 'linear', inputDim: dims[0], hiddenLayers, layers };
}

/** n rows of raw-looking features: per-column offsets and scales. */
export function randomFeatures(n: number, dim: number, seed: number): Float32Array {
  const rng = new Prng(seed);
  return Float32Array.from({ length: n * dim }, (_, i) => (i % dim) - 3 + rng.nextNormal() * (1 + (i % 3)));
}
