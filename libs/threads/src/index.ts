import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Worker threads that run the same code under jest as in production. A worker entry point `<dir>/<name>` runs from
 * `<name>.js` when the build put it there (dist/); from TypeScript sources (ts-jest, where there is no .js) it runs
 * `<name>.ts` through a small loader: the worker's module loader transpiles `.ts` files as they are required
 * (typescript's transpileModule, no type check) and resolves `@flywheel/<lib>[/<entry>]` to `libs/<lib>/src[/<entry>]`,
 * as tsconfig's paths do. Either way the worker gets `options` (workerData, transferList, …) unchanged.
 */
export function startWorkerThread(dir: string, name: string, options: WorkerOptions = {}): Worker {
  const compiled = join(dir, `${name}.js`);
  if (existsSync(compiled)) return new Worker(compiled, options);
  const source = join(dir, `${name}.ts`);
  if (!existsSync(source)) throw new Error(`worker thread ${name}: neither ${compiled} nor ${source} exists`);
  const loader = { script: source, typescript: require.resolve('typescript'), libs: join(__dirname, '../..') };
  return new Worker(`const loader = ${JSON.stringify(loader)};\n${TYPESCRIPT_LOADER}`, { ...options, eval: true });
}

const TYPESCRIPT_LOADER = `
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const Module = require('node:module');
const ts = require(loader.typescript);
require.extensions['.ts'] = (module, filename) => module._compile(ts.transpileModule(readFileSync(filename, 'utf8'), {
  fileName: filename,
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
}).outputText, filename);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const lib = /^@flywheel\\/([^/]+)(\\/.*)?$/.exec(request);
  return resolve.call(this, lib ? join(loader.libs, lib[1], 'src', lib[2] ?? '') : request, ...rest);
};
require(loader.script);
`;
