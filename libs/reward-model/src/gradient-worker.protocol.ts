import type { PairView } from './layered-network';

/* What the training threads share: see gradient-worker-pool.ts. */

export const WORKER_KIND = 'flywheel-reward-model-gradient-worker';

/** Control block layout (Int32Array indices). */
export const CONTROL = { seq: 0, mode: 1, start: 2, count: 3, ties: 4, error: 5, doneBase: 8 } as const;
export const MODE = { train: 1, validate: 2, stop: 3 } as const;

export interface GradientWorkerData {
  kind: typeof WORKER_KIND;
  shard: number;
  shards: number;
  dims: number[];
  maxPairs: number;
  features: Float32Array;
  mean: Float32Array;
  std: Float32Array;
  params: Float32Array;
  grads: Float32Array;
  train: PairView;
  trainOrder: Int32Array;
  validation: PairView;
  validationOrder: Int32Array;
  control: Int32Array;
  logNu: Float64Array;
  results: Float64Array;
}

/** Pairs [from, from + count) of shard `shard` out of `shards` for a batch [start, start + total). */
export function shardRange(start: number, total: number, shard: number, shards: number): [number, number] {
  const from = start + Math.floor((total * shard) / shards);
  const to = start + Math.floor((total * (shard + 1)) / shards);
  return [from, to - from];
}
