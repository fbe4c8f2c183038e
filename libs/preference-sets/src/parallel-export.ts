import { PreferenceSetsRepository } from '@flywheel/database';
import {
  type CopyExportFormat, type ExportResult, type ExportTask, type ParquetExportOptions, type ResolvedParquetOptions, pairParquetLayout,
  resolveParquetOptions, startExportWorker,
} from '@flywheel/preferences';

const WORKERS = 2;
/**
 * Parallel exports running at once in this process; more wait their turn (FIFO). Each holds two worker threads and
 * ~150 MB at peak (bench:export): without a bound, ten concurrent downloads would want 1.5 GB and 20 threads on a
 * 2-core machine, each going no faster.
 */
export const MAX_PARALLEL_EXPORTS = 2;

/** A counting semaphore: acquire() resolves when a slot is free, in request order. */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next in line
      else this.free++;
    };
  }
}

const exportSlots = new Slots(MAX_PARALLEL_EXPORTS);

export interface ParallelExportOptions {
  /** jsonl: rows per batch handed to a worker. Default 4,096. */
  batchRows?: number;
  /** parquet: options as encodeParquet takes them; each row group is one batch. */
  parquet?: ParquetExportOptions;
  /** Another worker script in place of the export worker (tests that make a worker die or fail). */
  workerScript?: string;
  /** Only this split's pairs. */
  split?: 'train' | 'validation' | 'test';
}

/**
 * dpo-jsonl, pairs-jsonl or parquet of a stored set, the only way production encodes them: parsed and encoded from
 * the COPY bytes by two worker threads (libs/preferences, copy/export.worker.ts) that take alternate batches of the
 * COPY stream's rows; results are written back in order, so the bytes equal the row oracle's (the specs and the
 * integration test compare them). Encoding one line per row is stateless, and a parquet row group is encoded with
 * offsets relative to its own start, which is what makes this split safe: here parquet's batches are its row
 * groups, laid out one after the other before the footer.
 */
export async function* parallelExport(
  sets: PreferenceSetsRepository, setId: string, format: CopyExportFormat, options: ParallelExportOptions = {},
): AsyncGenerator<Buffer> {
  const parquet = format === 'parquet' ? resolveParquetOptions(options.parquet) : undefined;
  const release = await exportSlots.acquire();
  try {
    yield* runParallelExport(sets, setId, format, options, parquet);
  } finally {
    release();
  }
}

async function* runParallelExport(
  sets: PreferenceSetsRepository, setId: string, format: CopyExportFormat, options: ParallelExportOptions,
  parquet: ResolvedParquetOptions | undefined,
): AsyncGenerator<Buffer> {
  const layout = parquet && pairParquetLayout(parquet);
  const batchRows = parquet ? parquet.rowGroupSize : options.batchRows ?? 4096;
  // Batches handed out but not yet written: bounds memory. A parquet row group is ~3 MB of text: one a worker (more
  // measured no faster and ~100 MB more RSS at 1M pairs).
  const inFlight = parquet ? WORKERS : 3 * WORKERS;
  const workers = Array.from({ length: WORKERS }, () => startExportWorker(options.workerScript));
  const pending = new Map<number, { resolve: (r: ExportResult) => void; reject: (e: Error) => void }>();
  let broken: Error | null = null;
  const failAll = (error: Error) => {
    broken ??= error;
    for (const w of pending.values()) w.reject(error);
    pending.clear();
  };
  for (const worker of workers) {
    worker.on('message', (m: ExportResult) => {
      const waiter = pending.get(m.id);
      if (!waiter) return; // the export already failed
      pending.delete(m.id);
      if (m.error !== undefined) waiter.reject(new Error(`export worker: ${m.error}`));
      else waiter.resolve(m);
    });
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`export worker exited with code ${code}`)));
  }
  const queue: Promise<ExportResult>[] = [];
  const written = (result: ExportResult): Buffer => {
    if (layout) layout.add(result.group!);
    return Buffer.from(result.bytes!.buffer, result.bytes!.byteOffset, result.bytes!.byteLength);
  };
  let id = 0;
  try {
    if (layout) yield layout.header();
    for await (const rows of sets.pairBatches(setId, batchRows, options.split)) {
      if (broken) throw broken;
      const task: ExportTask = { id: id++, format, rows, parquet };
      const result = new Promise<ExportResult>((resolve, reject) => pending.set(task.id, { resolve, reject }));
      result.catch(() => undefined); // awaited in order below; a failure must not also surface as unhandled
      queue.push(result);
      workers[task.id % WORKERS].postMessage(task, [rows.buffer as ArrayBuffer]);
      if (queue.length >= inFlight) yield written(await queue.shift()!);
    }
    while (queue.length) yield written(await queue.shift()!);
    if (layout) yield layout.footer();
  } finally {
    for (const worker of workers) worker.removeAllListeners('exit');
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
