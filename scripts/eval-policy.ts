/**
 * The real check of the satisfaction policy: how well do a user's IMPLICIT signals, scored by policy v1, separate the
 * videos they liked from the ones they hated? Replays the KuaiRand like/hate log (real Kuaishou feedback, 41,828 rows;
 * columns in ../shared/data/kuairand/README.md) and prints the ranking AUC of every single signal and of the policy.
 *
 *   npm run eval:policy                 # reads ../shared/data/kuairand/kuairand-like-hate.tsv from the repo root
 *   npm run eval:policy -- --file x.tsv
 *
 * Each row becomes one SignalState: is_click → played; play_time_ms and duration_ms → watch ratio (capped at 1.5,
 * completed at ≥ 98% as the ingest fold does; duration 0 means unknown); is_comment → commented; is_forward → shared.
 * long_view is not replayed: in this log it is a function of watch time ("≥ 18 s, or about to the end" in all but
 * 1.3% of rows), which the watch ratio already holds. is_follow and is_profile_enter are not replayed: they are about
 * the uploader, and SignalState has no field for them (a generated video has no uploader to follow). The label
 * (like/hate) is never shown to the policy.
 *
 * The watch quantiles are learned from all rows of the file, as production learns them from its own views; they use
 * only watch ratios and durations, never the label.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SignalState, emptySignalState } from '@flywheel/contracts';
import {
  POLICY_V1, WATCH_RATIO_CAP, aucFromScores, durationBucket, effectiveWatchRatio, learnWatchQuantiles, quantileRank,
  scoreSignals,
} from '@flywheel/satisfaction';

const DEFAULT_FILE = '../shared/data/kuairand/kuairand-like-hate.tsv';
/** The ingest fold marks a view completed from this watch ratio on. */
const COMPLETION_RATIO = 0.98;
const MIN_SAMPLES_PER_BUCKET = 200;

const COLUMNS = [
  'is_click', 'is_follow', 'is_comment', 'is_forward', 'long_view', 'play_time_ms', 'duration_ms', 'is_profile_enter',
  'label',
] as const;
type Column = (typeof COLUMNS)[number];

function main(): void {
  const file = path.resolve(process.cwd(), fileArgument() ?? DEFAULT_FILE);
  if (!existsSync(file)) {
    console.error(`no such file: ${file} (run from the repository root, or pass --file <path>)`);
    process.exit(1);
  }
  const startedAt = performance.now();
  const table = readColumns(file);
  const rows = table.label.length;
  const labels = Array.from(table.label, (label) => (label === 1 ? 1 : 0) as 0 | 1);

  const states = Array.from({ length: rows }, (_, i) => replay(table, i));
  const quantiles = learnWatchQuantiles(
    states.map((state) => ({ durationMs: state.durationMs, watchRatio: effectiveWatchRatio(state) })),
    MIN_SAMPLES_PER_BUCKET,
  );
  const policyScores = Float64Array.from(states, (state) => scoreSignals(state, POLICY_V1, quantiles));
  const policyAuc = aucFromScores(policyScores, labels);
  const elapsedMs = performance.now() - startedAt;

  // As in the dataset README: an unknown duration ranks below every known watch ratio.
  const watchRatio = Float64Array.from(states, (state) => state.maxWatchRatio ?? -1);
  // The policy's watch term on its own: rank inside the duration bucket, neutral without a ratio.
  const watchRank = Float64Array.from(states, (state) => {
    const ratio = effectiveWatchRatio(state);
    return ratio === null ? 0.5 : quantileRank(quantiles[durationBucket(state.durationMs)].knots, ratio);
  });
  const singles: Array<[string, Float64Array]> = [
    ['play_time_ms', table.play_time_ms], ['is_click', table.is_click], ['long_view', table.long_view],
    ['watch ratio', watchRatio], ['watch rank in bucket', watchRank], ['is_comment', table.is_comment],
    ['is_forward', table.is_forward], ['is_follow', table.is_follow], ['is_profile_enter', table.is_profile_enter],
  ];
  console.log(`${file}: ${rows} rows, ${labels.filter((label) => label === 1).length} liked`);
  console.log('watch quantiles: ' + Object.entries(quantiles)
    .map(([bucket, { samples, source }]) => `${bucket} ${source === 'learned' ? samples : 'default'}`).join(', '));
  console.log(`\n${'signal'.padEnd(24)}AUC like vs hate`);
  for (const [name, scores] of singles) console.log(`${name.padEnd(24)}${aucFromScores(scores, labels).toFixed(4)}`);
  console.log(`${`policy ${POLICY_V1.id}`.padEnd(24)}${policyAuc.toFixed(4)}`);
  console.log(`\nparsed, replayed, learned, scored and ranked in ${elapsedMs.toFixed(0)} ms`);
  console.log(JSON.stringify({ auc: Number(policyAuc.toFixed(4)), rows }));
}

function fileArgument(): string | undefined {
  const args = process.argv.slice(2);
  const inline = args.find((arg) => arg.startsWith('--file='));
  if (inline) return inline.slice('--file='.length);
  const at = args.indexOf('--file');
  return at >= 0 ? args[at + 1] : undefined;
}

function readColumns(file: string): Record<Column, Float64Array> {
  const lines = readFileSync(file, 'utf8').split('\n').filter((line) => line.length > 0);
  const header = lines[0].split('\t');
  const table = {} as Record<Column, Float64Array>;
  const positions = COLUMNS.map((column) => {
    const position = header.indexOf(column);
    if (position < 0) throw new Error(`${file} has no column ${column}`);
    table[column] = new Float64Array(lines.length - 1);
    return position;
  });
  for (let row = 1; row < lines.length; row++) {
    const cells = lines[row].split('\t');
    COLUMNS.forEach((column, c) => (table[column][row - 1] = Number(cells[positions[c]])));
  }
  return table;
}

function replay(table: Record<Column, Float64Array>, row: number): SignalState {
  const playMs = table.play_time_ms[row];
  const durationMs = table.duration_ms[row] > 0 ? table.duration_ms[row] : null;
  const ratio = durationMs === null ? null : Math.min(playMs / durationMs, WATCH_RATIO_CAP);
  return {
    ...emptySignalState(),
    impressed: true,
    played: table.is_click[row] === 1,
    maxWatchMs: playMs,
    durationMs,
    maxWatchRatio: ratio,
    completed: ratio !== null && ratio >= COMPLETION_RATIO,
    commented: table.is_comment[row] === 1,
    shared: table.is_forward[row] === 1,
  };
}

main();
