import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROOT, prng } from './support/harness';

/**
 * Benchmarks that never rot: every `bench:*` and `eval:*` script of package.json (and every test/bench/*.bench.ts)
 * runs here at a smoke size — seconds each — against this run's PostgreSQL and Kafka, from the built dist/ (that
 * deploy/test.sh builds first), and must exit 0 with its JSON last line holding the expected keys. No timing is
 * asserted: the figures are only read by people running the benches at full size.
 *
 * Adding a benchmark is ONE line in SMOKE below: the package.json script (or the bench file when it has no script),
 * smoke arguments, the keys of its last JSON line and what it must hold exactly. A new mode of an existing bench
 * (say `bench:ingest -- --sdk`) is one more line with its own arguments. A bench:* / eval:* script or a *.bench.ts
 * without a line fails the first test.
 */
interface Smoke {
  /** A package.json script (`bench:x`, `eval:x`) or, for a bench without a script, its source path. */
  run: string;
  args: string[];
  keys: string[];
  /** Values the JSON line must hold exactly (what was asked for, not a figure). */
  holds?: Record<string, unknown>;
}

const SYNTHETIC_ROWS = 600;
const KUAIRAND_SAMPLE = syntheticKuaiRand();

const SMOKE: Smoke[] = [
  { run: 'bench:ingest', args: ['--events', '1000', '--clients', '2', '--dup-rate', '0.05'], keys: ['events', 'eventsPerSec', 'copyCeilingPerSec', 'ratio', 'p50Ms', 'p99Ms', 'acceptPerSec', 'clients', 'sender', 'walBytesPerEvent', 'eventsTable'], holds: { events: 1000, clients: 2, sender: 'http', eventsTable: 'daily' } },
  // The baseline of the partitioning: the same traffic into feedback_events as it was before the migration.
  { run: 'bench:ingest', args: ['--events', '1000', '--clients', '2', '--dup-rate', '0.05', '--events-table', 'unpartitioned'], keys: ['eventsPerSec', 'walBytesPerEvent', 'eventsTable'], holds: { events: 1000, eventsTable: 'unpartitioned' } },
  { run: 'bench:ingest', args: ['--events', '1000', '--clients', '2', '--dup-rate', '0.05', '--sdk'], keys: ['events', 'eventsPerSec', 'copyCeilingPerSec', 'ratio', 'p50Ms', 'p99Ms', 'acceptPerSec', 'clients', 'sender'], holds: { events: 1000, clients: 2, sender: 'sdk' } },
  { run: 'bench:metrics', args: ['--events', '20000', '--runs', '3', '--raw-runs', '1', '--days', '3'], keys: ['events', 'p50Ms', 'p95Ms', 'rawP95Ms', 'speedup', 'compareP50Ms', 'compareP95Ms', 'videosP50Ms', 'videosP95Ms', 'rollupRows', 'rowsScanned', 'hourlyRowsInWindow'] },
  { run: 'bench:dimension-metrics', args: ['--signals', '20000', '--runs', '3', '--raw-runs', '1', '--days', '3', '--batch-rows', '100', '--rated-share', '0.3'], keys: ['signals', 'ratedRows', 'p50Ms', 'p95Ms', 'compareP95Ms', 'videosP95Ms', 'rawP95Ms', 'speedup', 'batchRows', 'batchRatedRows', 'overallWritesMs', 'dimensionWritesMs', 'dimensionTableRows'], holds: { batchRows: 100 } },
  { run: 'bench:train', args: ['--pairs', '4000', '--dim', '8', '--mlp-epochs', '1', '--heads', '2'], keys: ['pairs', 'linear', 'nonlinear', 'heads'], holds: { pairs: 4000, heads: { k: 2 } } },
  { run: 'bench:score-model', args: ['--seconds', '0.05'], keys: ['rowsPerSec', 'batch'] },
  { run: 'bench:score', args: ['--seconds', '0.05', '--requests', '50', '--rollout-requests', '4', '--rounds', '2'], keys: ['rowsPerSec', 'p50Ms', 'p99Ms', 'rewardsP50Ms', 'rewardsP99Ms', 'rewardsCeilingP50Ms', 'rewardsRatio'], holds: { rewardsCandidates: 1152 } },
  { run: 'bench:export', args: ['--pairs', '2000', '--rounds', '1'], keys: ['pairs', 'jsonlPairsPerSec', 'parquetPairsPerSec', 'psqlPairsPerSec', 'ktoRowsPerSec', 'groupsRowsPerSec', 'peakRssMb'], holds: { pairs: 2000 } },
  { run: 'bench:delete', args: ['--events', '20000', '--user-events', '400', '--user-days', '3', '--runs', '2'], keys: ['events', 'userEvents', 'runs', 'signalRows', 'medianMs', 'maxMs', 'rebuildMs', 'rebuildSpeedup', 'fullScanMs', 'spanScanMs'], holds: { userEvents: 400, userDays: 3, runs: 2 } },
  { run: 'eval:policy', args: ['--file', KUAIRAND_SAMPLE], keys: ['auc', 'rows'], holds: { rows: SYNTHETIC_ROWS } },
  // 40 real FETV prompts (test/fixtures/fetv-smoke), through the api and worker, 5-fold CV, one run through the trainer.
  { run: 'eval:fetv', args: ['--data', 'test/fixtures/fetv-smoke'], keys: ['overall', 'visual_quality', 'motion_quality', 'text_alignment', 'baseline', 'inSampleLinearCeiling'], holds: { prompts: 40, folds: 5, served: { perDimension: true, dimensions: ['visual_quality', 'motion_quality', 'text_alignment'] } } },
  // A/A and power worlds through the api and worker at a few replicates each (the full run: 200 and 100).
  { run: 'eval:calibration', args: ['--replicates', '6', '--power-replicates', '4', '--scale', '0.2'], keys: ['aaFalsePositiveRate', 'aaAnyMetricRate', 'peekingRate', 'powerAtLift', 'powerAtLiftPrimaryFixed', 'powerReferenceFixed', 'powerWelchPerVideo', 'byWorld'], holds: { replicates: 6, powerReplicates: 4 } },
  // The same worlds offline through the api's estimator, with the oracle (true SD across replicates).
  { run: 'sim:power', args: ['--replicates', '20', '--worlds', 'feed-m16,power-feed-m16'], keys: ['replicates', 'cpuSeconds', 'worlds'], holds: { replicates: 20, worlds: { 'power-feed-m16': { liftPoints: 3 } } } },
];

const scripts: Record<string, string> = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;

/** The built file a line runs: the `node dist/….js` of its script, or its source path compiled to dist/. */
function distFile(run: string): string {
  if (!run.includes('/')) {
    const file = /\bnode (dist\/\S+\.js)/.exec(scripts[run] ?? '')?.[1];
    if (!file) throw new Error(`package.json script ${run} does not run \`node dist/….js\`: ${scripts[run]}`);
    return file;
  }
  return `dist/${run.replace(/\.ts$/, '.js')}`;
}

describe('benchmarks and evaluations at a smoke size', () => {
  it('has a smoke line for every bench:* and eval:* script and every test/bench/*.bench.ts', () => {
    const covered = new Set(SMOKE.map((s) => distFile(s.run)));
    const wanted = [
      ...Object.keys(scripts).filter((name) => /^(bench|eval):/.test(name)).map(distFile),
      ...readdirSync(path.join(ROOT, 'test/bench')).filter((f) => f.endsWith('.bench.ts')).map((f) => distFile(`test/bench/${f}`)),
    ];
    expect(wanted.filter((file) => !covered.has(file))).toEqual([]);
  });

  it.each(SMOKE.map((s) => [`${s.run} ${s.args.join(' ')}`, s] as const))('%s ends with its JSON line', async (_, smoke) => {
    const { code, stdout, stderr } = await runNode(distFile(smoke.run), smoke.args);
    const lines = stdout.trim().split('\n');
    const last = lines[lines.length - 1];
    const context = `exit ${code}\n--- stdout (tail)\n${lines.slice(-30).join('\n')}\n--- stderr (tail)\n${stderr.slice(-4000)}`;
    let result: Record<string, unknown>;
    try {
      result = JSON.parse(last);
    } catch {
      throw new Error(`${smoke.run}: last line is not JSON\n${context}`);
    }
    if (code !== 0) throw new Error(`${smoke.run} failed\n${context}`);
    expect(Object.keys(result)).toEqual(expect.arrayContaining(smoke.keys));
    for (const key of smoke.keys) expect(result[key]).not.toBeNull();
    expect(result).toMatchObject(smoke.holds ?? {});
  }, 240_000);
});

function runNode(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, file), ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn' }, maxBuffer: 64 * 1024 * 1024, timeout: 230_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}


/** A small file in the KuaiRand like/hate layout (the real one lives outside the repository): likes watch longer. */
function syntheticKuaiRand(): string {
  const rand = prng(7);
  const header = ['user_id', 'is_click', 'is_follow', 'is_comment', 'is_forward', 'long_view', 'play_time_ms', 'duration_ms', 'is_profile_enter', 'label'];
  const rows = Array.from({ length: SYNTHETIC_ROWS }, (_, i) => {
    const liked = rand() < 0.5;
    const durationMs = 5000 + Math.floor(rand() * 55000);
    const playMs = Math.floor(durationMs * Math.min(1.4, (liked ? 0.5 : 0.1) + rand() * 0.8));
    const flag = (p: number) => (rand() < p ? 1 : 0);
    return [i, flag(liked ? 0.9 : 0.6), flag(0.01), flag(liked ? 0.05 : 0.01), flag(0.02), playMs > 18000 ? 1 : 0, playMs, durationMs, flag(0.05), liked ? 1 : 0].join('\t');
  });
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'flywheel-eval-policy-')), 'like-hate.tsv');
  writeFileSync(file, `${[header.join('\t'), ...rows].join('\n')}\n`);
  return file;
}
