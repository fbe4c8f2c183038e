/* Entry point of a training worker thread (see gradient-worker-pool.ts); does nothing when imported elsewhere. */
import { isMainThread, workerData } from 'node:worker_threads';
import { CONTROL, MODE, shardRange, WORKER_KIND, type GradientWorkerData } from './gradient-worker.protocol';
import { LayeredNetwork } from './layered-network';

function runGradientWorker(data: GradientWorkerData): void {
  const { control, shard, shards, results } = data;
  const { dims, maxPairs, params, grads, features, mean, std } = data;
  const network = new LayeredNetwork(dims, maxPairs, params, grads, features, mean, std);
  const out = new Float64Array(3);
  let seen = 0;
  for (;;) {
    Atomics.wait(control, CONTROL.seq, seen);
    seen = Atomics.load(control, CONTROL.seq);
    const mode = control[CONTROL.mode];
    if (mode === MODE.stop) return;
    try {
      const ties = control[CONTROL.ties] === 1;
      const logNu = data.logNu[0];
      const [from, count] = shardRange(control[CONTROL.start], control[CONTROL.count], shard, shards);
      if (mode === MODE.train) {
        network.accumulate(data.train, data.trainOrder, from, count, ties, logNu, out);
      } else {
        const [lossSum, weightSum] = network.lossSum(data.validation, data.validationOrder, from, count, ties, logNu);
        out[0] = lossSum;
        out[1] = weightSum;
        out[2] = 0;
      }
      results.set(out, 3 * shard);
    } catch (error) {
      Atomics.store(control, CONTROL.error, 1);
      Atomics.notify(control, CONTROL.doneBase + shard);
      throw error;
    }
    Atomics.store(control, CONTROL.doneBase + shard, seen);
    Atomics.notify(control, CONTROL.doneBase + shard);
  }
}

if (!isMainThread && (workerData as GradientWorkerData | undefined)?.kind === WORKER_KIND) {
  runGradientWorker(workerData as GradientWorkerData);
}
