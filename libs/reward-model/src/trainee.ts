import { pairLossGrad } from './bradley-terry.loss';
import { GradientWorkerPool, shared } from './gradient-worker-pool';
import { MODE, shardRange } from './gradient-worker.protocol';
import { LayeredNetwork, parameterCount, type PairView } from './layered-network';
import type { Prng } from './prng';
import type { DenseLayer, RewardModel, StandardisationStats } from './reward-model.types';

/** A set of pairs with the indices of the ones it holds, so a split never copies the pair arrays. */
export interface IndexedPairs extends PairView {
  index: Int32Array;
}

export interface TraineeInput {
  features: Float32Array;
  dim: number;
  stats: StandardisationStats;
  train: IndexedPairs;
  validation: IndexedPairs;
  batchSize: number;
}

/**
 * What the epoch loop (Adam, early stopping) drives. Parameters and gradients are single Float32Arrays laid out
 * layer by layer as [W₀ (out × in), b₀, W₁, b₁, …], so the optimiser step, the best-epoch snapshot and its restore
 * are each one loop or copy.
 */
export interface Trainee {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  /** Reshuffles and returns the number of mini-batches in the epoch. */
  startEpoch(rng: Prng): number;
  /**
   * Writes the gradient of the batch's weighted mean loss plus (λ/2)·‖W‖² into `grads` and ∂/∂log ν into nuGrad[0];
   * out[0] = the batch's weighted loss sum, out[1] = its total weight.
   */
  trainBatch(batch: number, ties: boolean, logNu: number, l2: number, nuGrad: Float32Array, out: Float64Array): void;
  validationLoss(ties: boolean, logNu: number): number;
  /** The current weights as a model on standardised features. */
  toModel(): RewardModel;
  /** Releases worker threads, if any. */
  close(): void;
}

/**
 * Linear Bradley–Terry on difference vectors: d = w·Δ with Δ = (x_a − x_b)/std (the bias and the mean cancel).
 * The Δ rows are written once in a seeded shuffled order; an epoch visits contiguous batches in a fresh order, so
 * the hot loop streams memory.
 */
export class LinearDifferenceTrainee implements Trainee {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  private readonly dim: number;
  private readonly diffs: Float32Array;
  private readonly outcome: Float32Array;
  private readonly weight: Float32Array;
  private readonly validationDiffs: Float32Array;
  private readonly validationOutcome: Float32Array;
  private readonly validationWeight: Float32Array;
  private readonly batchOrder: Int32Array;
  private readonly batchSize: number;
  private readonly gradSum: Float64Array;
  private readonly lossOut = new Float64Array(3);

  constructor(input: TraineeInput, rng: Prng) {
    const { dim, batchSize } = input;
    this.dim = dim;
    this.batchSize = batchSize;
    this.params = new Float32Array(dim + 1);
    this.grads = new Float32Array(dim + 1);
    this.gradSum = new Float64Array(dim);
    const order = input.train.index.slice();
    rng.shuffle(order);
    [this.diffs, this.outcome, this.weight] = differences(input, input.train, order);
    [this.validationDiffs, this.validationOutcome, this.validationWeight] = differences(
      input,
      input.validation,
      input.validation.index,
    );
    this.batchOrder = Int32Array.from({ length: Math.ceil(order.length / batchSize) }, (_, b) => b);
  }

  startEpoch(rng: Prng): number {
    rng.shuffle(this.batchOrder);
    return this.batchOrder.length;
  }

  trainBatch(batch: number, ties: boolean, logNu: number, l2: number, nuGrad: Float32Array, out: Float64Array): void {
    const { dim, diffs, outcome, weight, gradSum, params, grads, lossOut } = this;
    const start = this.batchOrder[batch] * this.batchSize;
    const end = Math.min(start + this.batchSize, outcome.length);
    let lossSum = 0;
    let weightSum = 0;
    let nuSum = 0;
    gradSum.fill(0);
    for (let q = start; q < end; q++) {
      const row = q * dim;
      const w = weight[q];
      pairLossGrad(dot(params, diffs, row, dim), outcome[q], ties, logNu, lossOut);
      lossSum += w * lossOut[0];
      weightSum += w;
      nuSum += w * lossOut[2];
      const coefficient = w * lossOut[1];
      for (let k = 0; k < dim; k++) gradSum[k] += coefficient * diffs[row + k];
    }
    const scale = weightSum > 0 ? 1 / weightSum : 0;
    for (let k = 0; k < dim; k++) grads[k] = gradSum[k] * scale + l2 * params[k];
    grads[dim] = 0;
    nuGrad[0] = nuSum * scale;
    out[0] = lossSum;
    out[1] = weightSum;
  }

  validationLoss(ties: boolean, logNu: number): number {
    const { dim, validationDiffs, validationOutcome, validationWeight, params, lossOut } = this;
    let lossSum = 0;
    let weightSum = 0;
    for (let q = 0; q < validationOutcome.length; q++) {
      pairLossGrad(dot(params, validationDiffs, q * dim, dim), validationOutcome[q], ties, logNu, lossOut);
      lossSum += validationWeight[q] * lossOut[0];
      weightSum += validationWeight[q];
    }
    return weightSum > 0 ? lossSum / weightSum : NaN;
  }

  toModel(): RewardModel {
    const layer: DenseLayer = {
      inDim: this.dim,
      outDim: 1,
      weights: this.params.slice(0, this.dim),
      bias: this.params.slice(this.dim),
    };
    return { kind: 'linear', inputDim: this.dim, hiddenLayers: [], layers: [layer] };
  }

  close(): void {}
}

function differences(
  input: TraineeInput,
  view: IndexedPairs,
  order: Int32Array,
): [Float32Array, Float32Array, Float32Array] {
  const { features, dim, stats } = input;
  const n = order.length;
  const diffs = new Float32Array(n * dim);
  const outcome = new Float32Array(n);
  const weight = new Float32Array(n);
  const invStd = Float64Array.from(stats.std, (s) => 1 / s);
  for (let q = 0; q < n; q++) {
    const p = order[q];
    const itemA = view.a[p] * dim;
    const itemB = view.b[p] * dim;
    const row = q * dim;
    for (let k = 0; k < dim; k++) diffs[row + k] = (features[itemA + k] - features[itemB + k]) * invStd[k];
    outcome[q] = view.outcome[p];
    weight[q] = view.weight ? view.weight[p] : 1;
  }
  return [diffs, outcome, weight];
}

function dot(w: Float32Array, x: Float32Array, offset: number, dim: number): number {
  const dim4 = dim - (dim & 3);
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0; // prettier-ignore
  for (let k = 0; k < dim4; k += 4) {
    s0 += w[k] * x[offset + k];
    s1 += w[k + 1] * x[offset + k + 1];
    s2 += w[k + 2] * x[offset + k + 2];
    s3 += w[k + 3] * x[offset + k + 3];
  }
  for (let k = dim4; k < dim; k++) s0 += w[k] * x[offset + k];
  return s0 + s1 + s2 + s3;
}

/**
 * Any stack of ReLU layers ending in one output unit, trained through `LayeredNetwork`; with threads > 1 each
 * mini-batch is split across worker threads (see gradient-worker-pool.ts).
 */
export class LayeredTrainee implements Trainee {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  /** Threads used: the calling thread and threads - 1 workers. */
  readonly threads: number;
  private readonly network: LayeredNetwork;
  private readonly pool: GradientWorkerPool | null;
  private readonly order: Int32Array;
  private readonly validationOrder: Int32Array;
  /** 1 for weights, 0 for biases: L2 applies to weights only. */
  private readonly isWeight: Uint8Array;
  private readonly shardOut = new Float64Array(3);

  constructor(
    private readonly input: TraineeInput,
    hiddenLayers: number[],
    rng: Prng,
    threads: number,
  ) {
    const dims = [input.dim, ...hiddenLayers, 1];
    const size = parameterCount(dims);
    this.threads = Math.max(1, threads);
    const sharedFloats = (n: number): Float32Array =>
      this.threads > 1 ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n);
    this.params = sharedFloats(size);
    this.grads = new Float32Array(size);
    const maxPairs = Math.ceil(input.batchSize / this.threads);
    const { features, stats } = input;
    const sharedFeatures = this.threads > 1 ? shared(features) : features;
    const networkGrads = sharedFloats(size);
    this.network = new LayeredNetwork(dims, maxPairs, this.params, networkGrads, sharedFeatures, stats.mean, stats.std);
    this.network.initialise(rng);
    this.isWeight = new Uint8Array(size);
    let offset = 0;
    for (let l = 0; l + 1 < dims.length; l++) {
      this.isWeight.fill(1, offset, offset + dims[l] * dims[l + 1]);
      offset += dims[l] * dims[l + 1] + dims[l + 1];
    }
    this.order = this.threads > 1 ? shared(input.train.index.slice()) : input.train.index.slice();
    this.validationOrder = this.threads > 1 ? shared(input.validation.index) : input.validation.index;
    this.pool = this.threads > 1 ? this.startWorkers(dims, maxPairs, sharedFeatures) : null;
  }

  /** Worker threads see the same data through shared copies (each distinct pair array is copied once). */
  private startWorkers(dims: number[], maxPairs: number, features: Float32Array): GradientWorkerPool {
    const { input } = this;
    const copies = new Map<unknown, unknown>();
    const share = <T extends Float32Array | Int32Array>(array: T): T => {
      if (!copies.has(array)) copies.set(array, shared(array));
      return copies.get(array) as T;
    };
    const sharedView = (view: IndexedPairs): PairView => ({
      a: share(view.a),
      b: share(view.b),
      outcome: share(view.outcome),
      weight: view.weight ? share(view.weight) : undefined,
    });
    return new GradientWorkerPool(this.threads, {
      dims,
      maxPairs,
      features,
      mean: input.stats.mean,
      std: input.stats.std,
      params: this.params,
      train: sharedView(input.train),
      trainOrder: this.order,
      validation: sharedView(input.validation),
      validationOrder: this.validationOrder,
    });
  }

  startEpoch(rng: Prng): number {
    rng.shuffle(this.order);
    return Math.ceil(this.order.length / this.input.batchSize);
  }

  trainBatch(batch: number, ties: boolean, logNu: number, l2: number, nuGrad: Float32Array, out: Float64Array): void {
    const start = batch * this.input.batchSize;
    const count = Math.min(this.input.batchSize, this.order.length - start);
    const { network, grads, params, isWeight, shardOut, pool } = this;
    pool?.dispatch(MODE.train, start, count, ties, logNu);
    const [from, shardCount] = shardRange(start, count, 0, this.threads);
    network.accumulate(this.input.train, this.order, from, shardCount, ties, logNu, shardOut);
    grads.set(network.grads);
    let [lossSum, weightSum, nuSum] = shardOut;
    if (pool) {
      pool.wait();
      for (let shard = 1; shard < this.threads; shard++) {
        const shardGrads = pool.grads[shard];
        for (let i = 0; i < grads.length; i++) grads[i] += shardGrads[i];
        lossSum += pool.results[3 * shard];
        weightSum += pool.results[3 * shard + 1];
        nuSum += pool.results[3 * shard + 2];
      }
    }
    out[0] = lossSum;
    out[1] = weightSum;
    if (!(weightSum > 0)) return;
    const scale = 1 / weightSum;
    for (let i = 0; i < grads.length; i++) grads[i] = grads[i] * scale + isWeight[i] * l2 * params[i];
    nuGrad[0] = nuSum * scale;
  }

  validationLoss(ties: boolean, logNu: number): number {
    const total = this.validationOrder.length;
    this.pool?.dispatch(MODE.validate, 0, total, ties, logNu);
    const [from, count] = shardRange(0, total, 0, this.threads);
    const validation = this.input.validation;
    let [lossSum, weightSum] = this.network.lossSum(validation, this.validationOrder, from, count, ties, logNu);
    if (this.pool) {
      this.pool.wait();
      for (let shard = 1; shard < this.threads; shard++) {
        lossSum += this.pool.results[3 * shard];
        weightSum += this.pool.results[3 * shard + 1];
      }
    }
    return weightSum > 0 ? lossSum / weightSum : NaN;
  }

  toModel(): RewardModel {
    return this.network.toModel();
  }

  close(): void {
    this.pool?.close();
  }
}
