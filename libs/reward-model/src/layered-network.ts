import { pairLossGrad } from './bradley-terry.loss';
import { gemmNT, matVec, paddedStride, transpose } from './dense-kernels';
import type { Prng } from './prng';
import type { DenseLayer, RewardModel } from './reward-model.types';

/** Pairs seen through an index list (a split or a shuffled order), so nothing copies the pair arrays. */
export interface PairView {
  a: Int32Array;
  b: Int32Array;
  outcome: Float32Array;
  weight: Float32Array | undefined;
}

/** Number of parameters of a stack with these widths, laid out [W₀ (out × in), b₀, W₁, b₁, …]. */
export function parameterCount(dims: number[]): number {
  let size = 0;
  for (let l = 0; l + 1 < dims.length; l++) size += dims[l] * dims[l + 1] + dims[l + 1];
  return size;
}

/**
 * Forward and backward passes of a stack of ReLU layers ending in one output unit (a linear model is the empty
 * stack) over mini-batches of pairs, on any thread: weights are read from `params` and gradients written to `grads`,
 * both laid out [W₀ (out × in), b₀, W₁, b₁, …], and either may live in a SharedArrayBuffer.
 *
 * A batch of P pairs is one pass over 2P rows: the first items in rows [0, P), the second ones in [P, 2P).
 * Layouts are chosen so every matrix product is `gemmNT` over contiguous memory: activations act[l] are row-major
 * (rows × width) for the forward pass; the backward pass works on transposed copies (width × rows, row stride `ld`)
 * of the activations and of the deltas (∂loss/∂pre-activation), so a weight gradient is δᵀ·A with both operands
 * running along the batch. All buffers are sized for `maxPairs` up front.
 */
export class LayeredNetwork {
  private readonly weights: Float32Array[] = [];
  private readonly biases: Float32Array[] = [];
  private readonly weightGrads: Float32Array[] = [];
  private readonly biasGrads: Float32Array[] = [];
  private readonly act: Float32Array[] = [];
  private readonly actT: Float32Array[] = [];
  private readonly deltaT: Float32Array[] = [];
  private readonly weightsT: Float32Array[] = [];
  private readonly deltaRows: Float32Array;
  private readonly rewards: Float32Array;
  private readonly zeros: Float32Array;
  private readonly invStd: Float32Array;
  private readonly ld: number;
  private readonly lossOut = new Float64Array(3);

  constructor(
    private readonly dims: number[],
    readonly maxPairs: number,
    readonly params: Float32Array,
    readonly grads: Float32Array,
    private readonly features: Float32Array,
    private readonly mean: Float32Array,
    std: Float32Array,
  ) {
    const maxRows = 2 * maxPairs;
    this.ld = paddedStride(maxRows);
    let offset = 0;
    for (let l = 0; l + 1 < dims.length; l++) {
      const inDim = dims[l];
      const outDim = dims[l + 1];
      this.weights.push(params.subarray(offset, offset + inDim * outDim));
      this.weightGrads.push(grads.subarray(offset, offset + inDim * outDim));
      offset += inDim * outDim;
      this.biases.push(params.subarray(offset, offset + outDim));
      this.biasGrads.push(grads.subarray(offset, offset + outDim));
      offset += outDim;
      this.act.push(new Float32Array(maxRows * inDim));
      this.actT.push(new Float32Array(this.ld * inDim));
      this.deltaT.push(new Float32Array(this.ld * outDim));
      this.weightsT.push(new Float32Array(inDim * outDim));
    }
    const widest = Math.max(...dims);
    this.deltaRows = new Float32Array(maxRows * widest);
    this.rewards = new Float32Array(maxRows);
    this.zeros = new Float32Array(Math.max(maxRows, widest));
    this.invStd = Float32Array.from(std, (s) => 1 / s);
  }

  /** He-normal weights for ReLU layers, 1/fan-in variance for the output unit (zeros for a linear model). */
  initialise(rng: Prng): void {
    const last = this.weights.length - 1;
    for (let l = 0; l < this.weights.length; l++) {
      if (l === last && last === 0) break;
      const scale = Math.sqrt((l === last ? 1 : 2) / this.dims[l]);
      const w = this.weights[l];
      for (let i = 0; i < w.length; i++) w[i] = rng.nextNormal() * scale;
    }
  }

  /**
   * Gradient of Σ w·loss over the pairs order[start … start + count) (count ≤ maxPairs), not yet divided by the
   * weight and without L2, into `grads`; out = [Σ w·loss, Σ w, Σ w·∂loss/∂log ν].
   */
  accumulate(
    view: PairView,
    order: Int32Array,
    start: number,
    count: number,
    ties: boolean,
    logNu: number,
    out: Float64Array,
  ): void {
    this.gather(view, order, start, count, true);
    this.forward(2 * count);
    const r = this.rewards;
    const dOut = this.deltaT[this.deltaT.length - 1];
    const lossOut = this.lossOut;
    let lossSum = 0;
    let weightSum = 0;
    let nuSum = 0;
    for (let q = 0; q < count; q++) {
      const p = order[start + q];
      const w = view.weight ? view.weight[p] : 1;
      pairLossGrad(r[q] - r[q + count], view.outcome[p], ties, logNu, lossOut);
      lossSum += w * lossOut[0];
      weightSum += w;
      nuSum += w * lossOut[2];
      dOut[q] = w * lossOut[1];
      dOut[q + count] = -w * lossOut[1];
    }
    out[0] = lossSum;
    out[1] = weightSum;
    out[2] = nuSum;
    this.backward(2 * count);
  }

  /** Σ w·loss and Σ w over the pairs order[start … start + count), any count, forward passes only. */
  lossSum(
    view: PairView,
    order: Int32Array,
    start: number,
    count: number,
    ties: boolean,
    logNu: number,
  ): [number, number] {
    const lossOut = this.lossOut;
    let lossSum = 0;
    let weightSum = 0;
    for (let from = start; from < start + count; from += this.maxPairs) {
      const chunk = Math.min(this.maxPairs, start + count - from);
      this.gather(view, order, from, chunk, false);
      this.forward(2 * chunk);
      const r = this.rewards;
      for (let q = 0; q < chunk; q++) {
        const p = order[from + q];
        const w = view.weight ? view.weight[p] : 1;
        pairLossGrad(r[q] - r[q + chunk], view.outcome[p], ties, logNu, lossOut);
        lossSum += w * lossOut[0];
        weightSum += w;
      }
    }
    return [lossSum, weightSum];
  }

  toModel(): RewardModel {
    const layers: DenseLayer[] = this.weights.map((weights, l) => ({
      inDim: this.dims[l],
      outDim: this.dims[l + 1],
      weights: weights.slice(),
      bias: this.biases[l].slice(),
    }));
    const hiddenLayers = this.dims.slice(1, -1);
    return { kind: hiddenLayers.length === 0 ? 'linear' : 'mlp', inputDim: this.dims[0], hiddenLayers, layers };
  }

  /** Standardised features of the first items into rows [0, count), of the second items into [count, 2·count). */
  private gather(view: PairView, order: Int32Array, start: number, count: number, transposed: boolean): void {
    const D = this.dims[0];
    const { features, mean, invStd, ld } = this;
    const rows = this.act[0];
    const columns = this.actT[0];
    for (let q = 0; q < count; q++) {
      const p = order[start + q];
      const rowA = q * D;
      const rowB = (q + count) * D;
      const itemA = view.a[p] * D;
      const itemB = view.b[p] * D;
      for (let k = 0; k < D; k++) {
        const xa = (features[itemA + k] - mean[k]) * invStd[k];
        const xb = (features[itemB + k] - mean[k]) * invStd[k];
        rows[rowA + k] = xa;
        rows[rowB + k] = xb;
        if (transposed) {
          columns[k * ld + q] = xa;
          columns[k * ld + q + count] = xb;
        }
      }
    }
  }

  private forward(rows: number): void {
    const last = this.weights.length - 1;
    for (let l = 0; l < last; l++) {
      const inDim = this.dims[l];
      const outDim = this.dims[l + 1];
      const next = this.act[l + 1];
      gemmNT(this.act[l], inDim, rows, this.weights[l], inDim, outDim, inDim, next, outDim, this.biases[l], true);
    }
    matVec(this.act[last], rows, this.dims[last], this.weights[last], this.biases[last][0], this.rewards);
  }

  private backward(rows: number): void {
    const { ld, zeros } = this;
    const last = this.weights.length - 1;
    for (let l = last; l >= 0; l--) {
      const inDim = this.dims[l];
      const outDim = this.dims[l + 1];
      const deltaT = this.deltaT[l];
      const actT = this.actT[l];
      if (l > 0) transpose(this.act[l], rows, inDim, actT, ld);
      gemmNT(deltaT, ld, outDim, actT, ld, inDim, rows, this.weightGrads[l], inDim, zeros, false);
      const gb = this.biasGrads[l];
      for (let o = 0; o < outDim; o++) {
        let s = 0;
        const row = o * ld;
        for (let r = 0; r < rows; r++) s += deltaT[row + r];
        gb[o] = s;
      }
      if (l === 0) break;
      // deltaT[l−1] = (Wᵀ·δ) ⊙ [act[l] > 0], since act[l] = relu(pre-activation of layer l−1). The mask is applied
      // as a multiplication by +(a > 0): a branch on it mispredicts half the time and is ~4× slower.
      const below = this.deltaT[l - 1];
      if (outDim === 1) {
        const w = this.weights[l];
        for (let i = 0; i < inDim; i++) {
          const wi = w[i];
          const row = i * ld;
          for (let r = 0; r < rows; r++) below[row + r] = +(actT[row + r] > 0) * deltaT[r] * wi;
        }
      } else {
        const deltaRows = this.deltaRows;
        for (let o = 0; o < outDim; o++) {
          for (let r = 0; r < rows; r++) deltaRows[r * outDim + o] = deltaT[o * ld + r];
        }
        transpose(this.weights[l], outDim, inDim, this.weightsT[l], outDim);
        gemmNT(this.weightsT[l], outDim, inDim, deltaRows, outDim, rows, outDim, below, ld, zeros, false);
        for (let i = 0; i < inDim; i++) {
          const row = i * ld;
          for (let r = 0; r < rows; r++) below[row + r] *= +(actT[row + r] > 0);
        }
      }
    }
  }
}
