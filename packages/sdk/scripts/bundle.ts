/**
 * Bundles @flywheel/sdk from its TypeScript source (the root `tsc` type-checks it) with esbuild: the browser build
 * as an ES module and as a script tag global (`Flywheel`), minified, and the Node build; then its declarations
 * (with those of libs/contracts they use) for apps written in TypeScript. Fails when the browser bundle is over its
 * budget of 10 kB min+gzip.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BuildOptions, build } from 'esbuild';

const BUDGET_BYTES = 10 * 1024;
const SDK = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../../../packages/sdk' : '..');
const OUT = path.join(SDK, 'dist');

async function main(): Promise<void> {
  const common: BuildOptions = { bundle: true, minify: true, legalComments: 'none', target: ['es2022'], logLevel: 'warning' };
  const browser = path.join(SDK, 'src/browser.ts');
  await Promise.all([
    build({ ...common, entryPoints: [browser], outfile: path.join(OUT, 'flywheel.mjs'), format: 'esm', platform: 'browser' }),
    build({ ...common, entryPoints: [browser], outfile: path.join(OUT, 'flywheel.min.js'), format: 'iife', globalName: 'Flywheel', platform: 'browser' }),
    build({ ...common, minify: false, entryPoints: [path.join(SDK, 'src/node.ts')], outfile: path.join(OUT, 'node.cjs'), format: 'cjs', platform: 'node' }),
  ]);
  const bin = (name: string) => path.join(SDK, '../../node_modules/.bin', name);
  const types = path.join(SDK, 'tsconfig.types.json');
  execFileSync(bin('tsc'), ['-p', types], { stdio: 'inherit' });
  execFileSync(bin('tsc-alias'), ['-p', types], { stdio: 'inherit' });
  for (const file of ['flywheel.min.js', 'flywheel.mjs']) {
    const bytes = readFileSync(path.join(OUT, file));
    const gzipped = gzipSync(bytes, { level: 9 }).length;
    process.stderr.write(`[sdk] ${file}: ${bytes.length} bytes minified, ${gzipped} bytes min+gzip (budget ${BUDGET_BYTES})\n`);
    if (gzipped > BUDGET_BYTES) throw new Error(`${file} is ${gzipped} bytes min+gzip, over the budget of ${BUDGET_BYTES}`);
  }
}

main().catch((error) => {
  process.stderr.write(`[sdk] bundle failed: ${(error as Error).message}\n`);
  process.exit(1);
});
