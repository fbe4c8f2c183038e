import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PreferenceSetsRepository } from '@flywheel/database';
import type { ExportTask } from './export.worker';

const WORKERS = 2;
/** Chunks handed out but not yet written: bounds memory, keeps both workers busy. */
const IN_FLIGHT = 6;

/** The compiled worker, or null under ts-jest (worker threads cannot load TypeScript sources). */
export function exportWorkerScript(): string | null {
  const script = path.join(__dirname, 'export.worker.js');
  return __filename.endsWith('.js') && existsSync(script) ? script : null;
}

/**
 * dpo-jsonl or pairs-jsonl of a stored set, parsed and encoded by two worker threads that take alternate chunks of
 * the COPY stream; chunks are written back in order, so the bytes equal the single-threaded encoders' (the
 * integration test compares them). Encoding one line per row is stateless, which is what makes this split safe.
 */
export async function* parallelPairLines(sets: PreferenceSetsRepository, setId: string, format: ExportTask['format'], script: string): AsyncGenerator<Buffer> {
  const workers = Array.from({ length: WORKERS }, () => new Worker(script));
  const pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  for (const worker of workers) {
    worker.on('message', (m: { id: number; bytes?: Uint8Array; error?: string }) => {
      const waiter = pending.get(m.id)!;
      pending.delete(m.id);
      if (m.error !== undefined) waiter.reject(new Error(`export worker: ${m.error}`));
      else waiter.resolve(Buffer.from(m.bytes!.buffer, m.bytes!.byteOffset, m.bytes!.byteLength));
    });
    worker.on('error', (error) => { for (const w of pending.values()) w.reject(error); pending.clear(); });
  }
  const queue: Promise<Buffer>[] = [];
  let id = 0;
  try {
    for await (const text of sets.pairText(setId)) {
      const task: ExportTask = { id: id++, format, text };
      const result = new Promise<Buffer>((resolve, reject) => pending.set(task.id, { resolve, reject }));
      result.catch(() => undefined); // awaited in order below; a failure must not also surface as unhandled
      queue.push(result);
      workers[task.id % WORKERS].postMessage(task);
      if (queue.length >= IN_FLIGHT) yield await queue.shift()!;
    }
    while (queue.length) yield await queue.shift()!;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
