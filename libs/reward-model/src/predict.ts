import { gemmNT, matVec } from './dense-kernels';
import { RewardModelError } from './reward-model.errors';
import type { RewardModel } from './reward-model.types';

const CHUNK_ROWS = 1024;

/**
 * The trainer's own forward pass: rewards of n rows of raw features (n × inputDim, row-major). Hidden activations
 * are kept in float32 between layers, as onnxruntime does, so the two agree to float32 rounding.
 */
export function predict(model: RewardModel, features: Float32Array, n: number): Float32Array {
  assertValidModel(model);
  if (!Number.isInteger(n) || n < 0 || features.length !== n * model.inputDim) {
    throw new RewardModelError(
      'FEATURE_DIM_MISMATCH',
      `expected ${n} rows of ${model.inputDim} features (${n * model.inputDim} values), got ${features.length} values`,
      { details: { rows: n, featureDim: model.inputDim, values: features.length } },
    );
  }
  const out = new Float32Array(n);
  const widest = Math.max(...model.layers.map((layer) => layer.outDim));
  let current = new Float32Array(CHUNK_ROWS * widest);
  let next = new Float32Array(CHUNK_ROWS * widest);
  const last = model.layers.length - 1;
  for (let start = 0; start < n; start += CHUNK_ROWS) {
    const rows = Math.min(CHUNK_ROWS, n - start);
    let input = features.subarray(start * model.inputDim, (start + rows) * model.inputDim);
    for (let l = 0; l < last; l++) {
      const layer = model.layers[l];
      const { inDim, outDim } = layer;
      gemmNT(input, inDim, rows, layer.weights, inDim, outDim, inDim, next, outDim, layer.bias, true);
      [current, next] = [next, current];
      input = current;
    }
    const output = model.layers[last];
    matVec(input, rows, output.inDim, output.weights, output.bias[0], out.subarray(start, start + rows));
  }
  return out;
}

/** Throws INVALID_MODEL unless the layers chain from inputDim to one output unit with buffers of the right sizes. */
export function assertValidModel(model: RewardModel): void {
  const fail = (why: string): never => {
    throw new RewardModelError('INVALID_MODEL', `invalid reward model: ${why}`);
  };
  if (!Number.isInteger(model.inputDim) || model.inputDim < 1) fail(`inputDim ${model.inputDim}`);
  if (model.layers.length !== model.hiddenLayers.length + 1) fail('layers do not match hiddenLayers');
  if ((model.kind === 'linear') !== (model.hiddenLayers.length === 0)) fail(`kind ${model.kind} with hidden layers`);
  let inDim = model.inputDim;
  model.layers.forEach((layer, l) => {
    const outDim = l < model.hiddenLayers.length ? model.hiddenLayers[l] : 1;
    if (layer.inDim !== inDim || layer.outDim !== outDim) fail(`layer ${l} is ${layer.inDim}→${layer.outDim}`);
    if (layer.weights.length !== inDim * outDim || layer.bias.length !== outDim) fail(`layer ${l} buffer sizes`);
    inDim = outDim;
  });
}
