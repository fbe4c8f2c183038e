/*
 * `--profile`: a sampled CPU profile of the api and the worker during the timed phase. The children load
 * ../cpu-profile.preload.js, which starts and stops the inspector's profiler when control files appear; the summary
 * ranks self time by owner (npm package, file of ours, node built-in) and by function. The .cpuprofile files stay in
 * a temporary directory and open in Chrome DevTools.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sleep } from '../../support/harness';
import { fmt, printTable } from './report';

const APPS = ['api', 'worker'] as const;

/** Node options for the children, with the profiler preloaded when `--profile` asked for it. */
export class ChildProfiles {
  private readonly dir: string;
  private readonly childNodeOptions: string;

  constructor(readonly enabled: boolean, extraNodeOptions: string) {
    this.dir = enabled ? mkdtempSync(path.join(tmpdir(), 'flywheel-bench-ingest-')) : '';
    this.childNodeOptions = `${process.env.NODE_OPTIONS ?? ''} ${extraNodeOptions}`.trim();
  }

  /** What `--child-node-options` and `--profile` add to a child's environment. */
  env(app: (typeof APPS)[number]): Record<string, string> {
    if (!this.enabled) return this.childNodeOptions ? { NODE_OPTIONS: this.childNodeOptions } : {};
    const preload = path.join(__dirname, '..', 'cpu-profile.preload.js');
    return { NODE_OPTIONS: `${this.childNodeOptions} --require ${preload}`.trim(), FLYWHEEL_BENCH_CPU_PROFILE: this.file(app) };
  }

  describeNodeOptions(): string {
    return this.childNodeOptions;
  }

  async start(): Promise<void> {
    if (!this.enabled) return;
    for (const app of APPS) writeFileSync(`${this.file(app)}.start`, '');
    await sleep(200);
  }

  stop(): void {
    if (!this.enabled) return;
    for (const app of APPS) writeFileSync(`${this.file(app)}.stop`, '');
  }

  /** Prints the top owners and functions of each child's profile (waits for the children to write them). */
  async print(top = 15): Promise<void> {
    if (!this.enabled) return;
    for (const app of APPS) {
      const file = this.file(app);
      await waitForFile(file, 15_000);
      const summary = summariseProfile(file, top);
      printTable(`CPU profile of the ${app} during the timed phase (${fmt(summary.seconds, 1)} s wall; self time by owner) — ${file}`,
        summary.owners.map(([owner, f]) => [owner, `${fmt(100 * f, 1)}%`]));
      printTable(`top self-time functions of the ${app}`, summary.functions.map(([fn, f]) => [fn, `${fmt(100 * f, 1)}%`]));
    }
  }

  private file(app: string): string {
    return path.join(this.dir, `${app}.cpuprofile`);
  }
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  startTime: number;
  endTime: number;
}

/** Where a profile node's code lives: an npm package, a file of ours, a node built-in, or a V8 pseudo-frame. */
function codeOwner(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 14).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `flywheel ${url.slice(dist + 6).replace(/\.js$/, '')}`;
  return url;
}

function summariseProfile(file: string, top: number): { owners: [string, number][]; functions: [string, number][]; seconds: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const id of profile.samples) {
    const frame = byId.get(id)!;
    const owner = codeOwner(frame.url, frame.functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + 1);
    const fn = frame.url ? `${frame.functionName || '(anonymous)'}  ${owner}:${frame.lineNumber + 1}` : owner;
    functions.set(fn, (functions.get(fn) ?? 0) + 1);
  }
  const n = profile.samples.length || 1;
  const rank = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, v / n] as [string, number]);
  return { owners: rank(owners), functions: rank(functions), seconds: (profile.endTime - profile.startTime) / 1e6 };
}

async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no CPU profile at ${file} after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}
