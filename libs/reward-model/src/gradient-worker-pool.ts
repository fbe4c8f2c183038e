import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from '@flywheel/threads';
// Imported for its side effect on the build only: it makes every compile of this file emit the worker script too
// (on the main thread the module does nothing).
import './bradley-terry.worker';
import { CONTROL, MODE, WORKER_KIND, type GradientWorkerData } from './gradient-worker.protocol';
import { RewardModelError } from './reward-model.errors';

/*
 * Data-parallel mini-batches for the MLP trainer. Every batch is cut into `shards` contiguous slices; the calling
 * thread computes slice 0 and worker s computes slice s, each into its own gradient buffer, and the caller adds them
 * up in shard order. The cut depends only on the batch, so the result does not depend on thread timing: training
 * stays bit-for-bit reproducible for a given seed and thread count (a different thread count sums in a different
 * order and so gives a slightly different model).
 *
 * Weights, gradients, data and a small control block live in SharedArrayBuffers; threads meet through
 * Atomics.wait/notify on the control block (a few microseconds), never through messages.
 */

/** How long the calling thread waits for a worker before deciding it is gone. */
const WORKER_TIMEOUT_MS = 60_000;

/** A copy of `array` in shared memory (or the array itself when it already is). */
export function shared<T extends Float32Array | Int32Array | Float64Array>(array: T): T {
  if (array.buffer instanceof SharedArrayBuffer) return array;
  const Ctor = array.constructor as new (buffer: SharedArrayBuffer) => T;
  const copy = new Ctor(new SharedArrayBuffer(array.byteLength));
  copy.set(array as never);
  return copy;
}

export class GradientWorkerPool {
  private readonly workers: Worker[] = [];
  private readonly control: Int32Array;
  private readonly logNu: Float64Array;
  readonly results: Float64Array;
  readonly grads: Float32Array[] = [];
  private seq = 0;
  private closed = false;

  constructor(
    readonly shards: number,
    setup: Omit<GradientWorkerData, 'kind' | 'shard' | 'shards' | 'grads' | 'control' | 'logNu' | 'results'>,
  ) {
    this.control = new Int32Array(new SharedArrayBuffer(4 * (CONTROL.doneBase + shards)));
    this.logNu = new Float64Array(new SharedArrayBuffer(8));
    this.results = new Float64Array(new SharedArrayBuffer(8 * 3 * shards));
    for (let shard = 1; shard < shards; shard++) {
      const grads = new Float32Array(new SharedArrayBuffer(4 * setup.params.length));
      this.grads[shard] = grads;
      const workerData: GradientWorkerData = {
        ...setup,
        kind: WORKER_KIND,
        shard,
        shards,
        grads,
        control: this.control,
        logNu: this.logNu,
        results: this.results,
      };
      // The compiled bradley-terry.worker.js, or its TypeScript source under ts-jest: the same code either way.
      const worker = startWorkerThread(__dirname, 'bradley-terry.worker', { workerData });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Starts the workers' shards of a batch (train) or of the whole validation set (validate). */
  dispatch(mode: number, start: number, count: number, ties: boolean, logNu: number): void {
    const c = this.control;
    c[CONTROL.mode] = mode;
    c[CONTROL.start] = start;
    c[CONTROL.count] = count;
    c[CONTROL.ties] = ties ? 1 : 0;
    this.logNu[0] = logNu;
    this.seq = Atomics.add(c, CONTROL.seq, 1) + 1;
    Atomics.notify(c, CONTROL.seq);
  }

  /** Blocks until every worker has finished the last dispatch. */
  wait(): void {
    const c = this.control;
    for (let shard = 1; shard < this.shards; shard++) {
      const slot = CONTROL.doneBase + shard;
      const deadline = Date.now() + WORKER_TIMEOUT_MS;
      for (;;) {
        const done = Atomics.load(c, slot);
        if (done === this.seq) break;
        if (Atomics.load(c, CONTROL.error) !== 0) {
          throw new RewardModelError('TRAINING_WORKER_FAILED', `training worker ${shard} failed`);
        }
        if (Date.now() > deadline) {
          throw new RewardModelError('TRAINING_WORKER_FAILED', `training worker ${shard} did not answer in time`);
        }
        Atomics.wait(c, slot, done, 1000);
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.control[CONTROL.mode] = MODE.stop;
    Atomics.add(this.control, CONTROL.seq, 1);
    Atomics.notify(this.control, CONTROL.seq);
    for (const worker of this.workers) void worker.terminate();
  }
}
