import type { DenseLayer, RewardModel, StandardisationStats } from './reward-model.types';

/** Below this a feature is treated as constant: it is centred but not scaled. */
const MIN_STD = 1e-6;

/** Mean and standard deviation of each feature over the items flagged in `used` (all items when omitted). */
export function computeStandardisation(
  features: Float32Array,
  nItems: number,
  dim: number,
  used?: Uint8Array,
): StandardisationStats {
  const sum = new Float64Array(dim);
  let count = 0;
  for (let i = 0; i < nItems; i++) {
    if (used && used[i] === 0) continue;
    count++;
    const row = i * dim;
    for (let k = 0; k < dim; k++) sum[k] += features[row + k];
  }
  const mean = new Float64Array(dim);
  for (let k = 0; k < dim; k++) mean[k] = count > 0 ? sum[k] / count : 0;
  const squares = new Float64Array(dim);
  for (let i = 0; i < nItems; i++) {
    if (used && used[i] === 0) continue;
    const row = i * dim;
    for (let k = 0; k < dim; k++) {
      const centred = features[row + k] - mean[k];
      squares[k] += centred * centred;
    }
  }
  const std = new Float32Array(dim);
  for (let k = 0; k < dim; k++) {
    const s = count > 1 ? Math.sqrt(squares[k] / count) : 1;
    std[k] = s > MIN_STD ? s : 1;
  }
  return { mean: Float32Array.from(mean), std };
}

/** (x − mean) / std for n rows of features. */
export function standardiseFeatures(features: Float32Array, n: number, stats: StandardisationStats): Float32Array {
  const dim = stats.mean.length;
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const row = i * dim;
    for (let k = 0; k < dim; k++) out[row + k] = (features[row + k] - stats.mean[k]) / stats.std[k];
  }
  return out;
}

/**
 * A model on raw features equal to `model` applied to standardised features: the first layer's weights become
 * W / std and its bias b − Σ W·mean / std (computed in float64, stored in float32).
 */
export function foldStandardisation(model: RewardModel, stats: StandardisationStats): RewardModel {
  const [first, ...rest] = model.layers;
  const weights = new Float32Array(first.weights.length);
  const bias = new Float32Array(first.outDim);
  for (let o = 0; o < first.outDim; o++) {
    let shift = 0;
    for (let i = 0; i < first.inDim; i++) {
      const w = first.weights[o * first.inDim + i] / stats.std[i];
      weights[o * first.inDim + i] = w;
      shift += w * stats.mean[i];
    }
    bias[o] = first.bias[o] - shift;
  }
  const folded: DenseLayer = { inDim: first.inDim, outDim: first.outDim, weights, bias };
  return { ...model, hiddenLayers: [...model.hiddenLayers], layers: [folded, ...rest.map(copyLayer)] };
}

export function copyLayer(layer: DenseLayer): DenseLayer {
  return { inDim: layer.inDim, outDim: layer.outDim, weights: layer.weights.slice(), bias: layer.bias.slice() };
}
