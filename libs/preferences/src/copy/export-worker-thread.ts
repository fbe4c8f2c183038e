import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ResolvedParquetOptions } from '../parquet.encoder';
import type { RowGroupMeta } from '../parquet/flat-parquet';

/** The formats the COPY byte path encodes (videoalign-csv and ranked-jsonl go through their row encoders). */
export type CopyExportFormat = 'dpo-jsonl' | 'pairs-jsonl' | 'parquet';

/** A batch for an export worker (export.worker.ts). */
export interface ExportTask {
  id: number;
  format: CopyExportFormat;
  /** UTF-8 COPY text of whole rows (transferred, not copied). */
  rows: Uint8Array;
  parquet?: ResolvedParquetOptions;
}

export interface ExportResult {
  id: number;
  bytes?: Uint8Array;
  /** parquet: the row group's metadata, offsets relative to its first byte. */
  group?: RowGroupMeta;
  error?: string;
}

/**
 * Loads a TypeScript worker script in a worker thread: the worker's own module loader transpiles `.ts` files as
 * they are required (typescript's transpileModule, no type check) and resolves `@flywheel/<lib>[/<entry>]` to
 * `libs/<lib>/src[/<entry>]`, as tsconfig's paths do. Only when this module itself runs from its TypeScript source
 * (ts-jest), so the tests run the export workers production runs; built code never comes here.
 */
const TYPESCRIPT_WORKER = `
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const Module = require('node:module');
const ts = require(workerData.typescript);
require.extensions['.ts'] = (module, filename) => module._compile(ts.transpileModule(readFileSync(filename, 'utf8'), {
  fileName: filename,
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
}).outputText, filename);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const lib = /^@flywheel\\/([^/]+)(\\/.*)?$/.exec(request);
  return resolve.call(this, lib ? join(workerData.libs, lib[1], 'src', lib[2] ?? '') : request, ...rest);
};
require(workerData.script);
`;

/**
 * A thread running the export worker (export.worker.ts): the compiled script next to this module, or the
 * TypeScript source under ts-jest. `script` replaces it (tests that make a worker fail).
 */
export function startExportWorker(script?: string): Worker {
  if (script) return new Worker(script);
  if (__filename.endsWith('.js')) return new Worker(join(__dirname, 'export.worker.js'));
  return new Worker(TYPESCRIPT_WORKER, {
    eval: true,
    workerData: { script: join(__dirname, 'export.worker.ts'), typescript: require.resolve('typescript'), libs: join(__dirname, '../../..') },
  });
}
