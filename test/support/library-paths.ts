import * as path from 'node:path';
import Module = require('node:module');

/**
 * jest's globalSetup runs outside its moduleNameMapper, so `@flywheel/<lib>` imports inside the libraries would not
 * resolve there. This maps them the way tsconfig.json's `paths` do (read from it, so the two never disagree).
 */
let installed = false;

export function resolveLibraryPaths(): void {
  if (installed) return;
  installed = true;
  const root = path.resolve(__dirname, '../..');
  const paths: Record<string, string[]> = require(path.join(root, 'tsconfig.json')).compilerOptions.paths;
  const resolver = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = resolver._resolveFilename;
  resolver._resolveFilename = function (request: string, ...rest: unknown[]) {
    const target = paths[request];
    return original.call(this, target ? path.join(root, target[0]) : request, ...rest);
  };
}
