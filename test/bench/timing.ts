import { performance } from 'node:perf_hooks';

/** Runs `work` once: its result and how long it took (ms). */
export async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

/** `runs` timings (ms) of `work`, after `warmups` untimed runs. */
export async function sampleRuns(work: () => Promise<unknown>, runs: number, warmups = 3): Promise<number[]> {
  for (let i = 0; i < warmups; i++) await work();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push((await timed(work))[1]);
  return samples;
}

/** The nearest-rank p-th percentile (0–100) of unsorted samples. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
