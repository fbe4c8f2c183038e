/**
 * `npm run sim:power`: the calibration worlds of `npm run eval:calibration`, offline. The same views
 * (scripts/calibration-world.ts) go straight into what the ingest-worker would keep — rollup totals and the per-video
 * and per-user cluster moments, each row scored by the satisfaction policy — and into the api's own estimator
 * (`compareTotals` and `adjusterFor` of apps/api's metrics service), without Kafka, PostgreSQL or HTTP. Per replicate
 * it records the like-rate difference, the cluster-robust standard error the service reports, its fixed-horizon and
 * always-valid p-values and Benjamini–Hochberg flags, and a Welch t on per-video like rates (the eval's old
 * reference). Across the replicates of a world it measures the ORACLE: the true sampling SD of the difference at that
 * design, so a z test with it is what a correctly-sized fixed-horizon test can reach.
 *
 *   npm run sim:power                                   # 400 replicates per world, a few seconds of CPU per world
 *   npm run sim:power -- --replicates 100 --worlds power-feed-m16,feed-m16
 *
 * Prints a table and as its last line JSON { worlds: { <name>: { … } } }.
 */
import { parseArgs } from 'node:util';
import { emptySignalState } from '@flywheel/contracts';
import { RollupTotals, VersionSums } from '@flywheel/database';
import {
  CURRENT_POLICY, DEFAULT_WATCH_QUANTILES, MOMENT_COLUMNS, ROLLUP_COUNTERS, alwaysValidTest, counterIndex,
  scoreAndContribute, twoSidedT,
} from '@flywheel/satisfaction';
import { DEFAULT_SEQUENTIAL_TUNING, adjusterFor, compareTotals } from '../apps/api/src/metrics/satisfaction-metrics.service';
import { DURATION_MS, SimulatedReplicate, View, World, calibrationWorlds, logitShiftFor, prng, simulateReplicate } from './calibration-world';

const ALPHA = 0.05;

/** The folded state of one view, as the ingest-worker folds its events (progress, then each signal). */
function stateOf(view: View) {
  const state = emptySignalState();
  const watchMs = Math.round(view.watchRatio * DURATION_MS);
  state.impressed = state.played = true;
  state.maxWatchMs = watchMs;
  state.durationMs = DURATION_MS;
  state.maxWatchRatio = Math.fround(Math.min(watchMs / DURATION_MS, 1.5));
  state.completed = state.maxWatchRatio >= 0.98;
  for (const s of view.signals) {
    if (s === 'like') state.liked = true;
    else if (s === 'favorite') state.favorited = true;
    else if (s === 'share') state.shared = true;
    else if (s === 'export') state.exported = true;
    else if (s === 'dislike') state.disliked = true;
    else if (s === 'regenerate') state.regenerated = true;
  }
  return state;
}

const K = ROLLUP_COUNTERS.length;
const LIKES = counterIndex('likes');
const VIEWERS = counterIndex('viewers');

/** Moments Σ_g S_g,a·S_g,b over clusters (what cluster_moments holds), from per-cluster counter sums. */
function moments(clusters: Iterable<Float64Array>): Record<string, number> {
  const out: Record<string, number> = { clusters: 0 };
  const columns = MOMENT_COLUMNS.map((m) => ({ name: m.name, a: counterIndex(m.a), b: counterIndex(m.b) }));
  for (const c of columns) out[c.name] = 0;
  for (const s of clusters) {
    out.clusters++;
    for (const c of columns) out[c.name] += s[c.a] * s[c.b];
  }
  return out;
}

const toTotals = (sums: Float64Array) => Object.fromEntries(ROLLUP_COUNTERS.map((c, i) => [c, sums[i]])) as RollupTotals;

/** One arm's all-time sums, exactly as the ingest-worker keeps them for a model version with one cell. */
export function versionSumsOf(videos: View[][], modelVersion: string): VersionSums {
  const total = new Float64Array(K);
  const perVideo: Float64Array[] = [];
  const perUser = new Map<number, Float64Array>();
  for (const views of videos) {
    const video = new Float64Array(K);
    for (const view of views) {
      const { contribution } = scoreAndContribute(stateOf(view), CURRENT_POLICY, DEFAULT_WATCH_QUANTILES);
      let user = perUser.get(view.user);
      if (!user) perUser.set(view.user, (user = new Float64Array(K)));
      for (let i = 0; i < K; i++) {
        total[i] += contribution[i];
        video[i] += contribution[i];
        user[i] += contribution[i];
      }
    }
    perVideo.push(video);
  }
  const totals = toTotals(total);
  const videoMoments = moments(perVideo);
  return {
    model: 'sim', modelVersion, totals, videoMoments, userMoments: moments(perUser.values()),
    cells: [{ category: '', segment: '', totals, videoMoments }],
  };
}

/**
 * Two-way cluster-robust variance of the like-rate difference computed on the difference itself (its linearised
 * influence per row, clustered by video and by user across both arms), i.e. with the cross-arm user covariance the
 * service leaves out. A diagnostic: what the service could report if it joined both versions' users.
 */
function differenceCgmVariance(replicate: SimulatedReplicate): number {
  const rates = replicate.arms.map((videos) => {
    let likes = 0;
    let n = 0;
    for (const views of videos) for (const v of views) { n++; if (v.signals.includes('like')) likes++; }
    return { r: likes / n, n };
  });
  const users = new Map<number, number>();
  let video = 0;
  let row = 0;
  let videos = 0;
  replicate.arms.forEach((arm, a) => {
    const sign = a === 1 ? 1 : -1;
    for (const views of arm) {
      let g = 0;
      videos++;
      for (const v of views) {
        const x = (sign * ((v.signals.includes('like') ? 1 : 0) - rates[a].r)) / rates[a].n;
        g += x;
        row += x * x;
        users.set(v.user, (users.get(v.user) ?? 0) + x);
      }
      video += g * g;
    }
  });
  let user = 0;
  for (const u of users.values()) user += u * u;
  const vVideo = (videos / (videos - 1)) * video;
  const vUser = (users.size / (users.size - 1)) * user;
  return Math.max(vVideo + vUser - row, vVideo, vUser, row);
}

/** Welch t on per-video like rates, b − a (videos as the only clusters): the eval's former reference. */
export function welchPerVideo(videoLikes: [number, number][][]): { difference: number; p: number } {
  const stats = videoLikes.map((arm) => {
    const xs = arm.map(([n, likes]) => likes / n);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
    return { mean, se2: variance / xs.length, n: xs.length };
  });
  const se2 = stats[0].se2 + stats[1].se2;
  const difference = stats[1].mean - stats[0].mean;
  if (!(se2 > 0)) return { difference, p: 1 };
  const df = se2 ** 2 / (stats[0].se2 ** 2 / (stats[0].n - 1) + stats[1].se2 ** 2 / (stats[1].n - 1));
  return { difference, p: twoSidedT(difference / Math.sqrt(se2), df) };
}

/** What the service answers about like rate for one replicate, and the references computed beside it. */
export interface ReplicateResult {
  difference: number;
  /** The service's cluster-robust SE of the like difference. */
  se: number;
  /** The row-level (naive) SE of the like difference. */
  naiveSe: number;
  /** The SE of a two-way CGM computed on the difference (cross-arm user covariance included). */
  differenceSe: number;
  fixedP: number;
  alwaysValidP: number;
  /** Always-valid p at other tunings N* (total viewers), keyed by N*. */
  alwaysValidPByTuning: Record<number, number>;
  /** Like flagged `significant` (Benjamini–Hochberg over the 11 metrics) and positive, headline fixed / always-valid. */
  significantFixed: boolean;
  significantAlwaysValid: boolean;
  /** Any metric flagged (the eval's any-metric count), fixed horizon. */
  anyFixed: boolean;
  welch: { difference: number; p: number };
  n: number;
}

export const TUNINGS = [1_000, 3_200, 5_000, 20_000, 100_000] as const;

export function runReplicate(replicate: SimulatedReplicate): ReplicateResult {
  const [a, b] = replicate.arms.map((videos, arm) => versionSumsOf(videos, arm === 0 ? 'a' : 'b'));
  const options = { baseline: adjusterFor([a], a.cells), candidate: adjusterFor([b], b.cells) };
  const fixed = compareTotals(a.totals, b.totals, { ...options, fixedHorizon: true });
  const sequential = compareTotals(a.totals, b.totals, { ...options, fixedHorizon: false });
  const likeOf = (answer: typeof fixed) => answer.metrics.find((m) => m.metric === 'like')!;
  const like = likeOf(fixed);
  const difference = like.difference.value!;
  const se = like.difference.standardError!;
  const n = a.totals.viewers + b.totals.viewers;
  const rate = (t: RollupTotals) => t.likes / t.viewers;
  const naiveSe = Math.sqrt(rate(a.totals) * (1 - rate(a.totals)) / a.totals.viewers + rate(b.totals) * (1 - rate(b.totals)) / b.totals.viewers);
  const df = like.candidate.df ?? Infinity;
  const alwaysValidPByTuning = Object.fromEntries(TUNINGS.map((t) => [t, alwaysValidTest(difference, se, Math.min(df, like.baseline.df ?? Infinity), n, t, ALPHA).pValue]));
  const videoLikes = replicate.arms.map((videos) => videos.map((views) => [views.length, views.filter((v) => v.signals.includes('like')).length] as [number, number]));
  return {
    difference, se, naiveSe, differenceSe: Math.sqrt(differenceCgmVariance(replicate)),
    fixedP: like.fixedHorizon.pValue!, alwaysValidP: like.alwaysValid.pValue!, alwaysValidPByTuning,
    significantFixed: like.significant && difference > 0,
    significantAlwaysValid: likeOf(sequential).significant && difference > 0,
    anyFixed: fixed.metrics.some((m) => m.significant),
    welch: welchPerVideo(videoLikes), n,
  };
}

export interface WorldSummary {
  world: string;
  design: string;
  videosPerArm: number;
  viewersPerVideo: number;
  replicates: number;
  liftPoints: number;
  /** Mean realized like-rate difference (b − a) in the rows the compare reads. */
  meanDifference: number;
  /** The true sampling SD of the difference across replicates. */
  oracleSd: number;
  meanSe: number;
  meanNaiveSe: number;
  meanDifferenceSe: number;
  /** oracleSd / meanSe: 1 when the service's SE is the true one, < 1 when it is conservative. */
  seRatio: number;
  /** Fractions of replicates with p < 0.05 (and difference > 0 in a lift world). */
  oracle: number;
  serviceFixed: number;
  serviceAlwaysValid: number;
  serviceSignificantFixed: number;
  serviceSignificantAlwaysValid: number;
  anyMetricFixed: number;
  differenceCgmFixed: number;
  welch: number;
  alwaysValidByTuning: Record<number, number>;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};

/** Simulates `world.replicates` replicates (deterministic in seed) and summarises them. */
export function simulateWorld(world: World, seed: number): WorldSummary {
  const rand = prng(seed);
  const shift = world.lift ? logitShiftFor(world.lift / 100) : 0;
  const results: ReplicateResult[] = [];
  for (let r = 0; r < world.replicates; r++) results.push(runReplicate(simulateReplicate(world, rand, 0, shift)));
  const lift = world.lift > 0;
  const hit = (p: number, d: number) => p < ALPHA && (!lift || d > 0);
  const share = (pick: (r: ReplicateResult) => boolean) => results.filter(pick).length / results.length;
  const oracleSd = sd(results.map((r) => r.difference));
  return {
    world: world.name, design: world.design, videosPerArm: world.videosPerArm, viewersPerVideo: world.viewersPerVideo,
    replicates: world.replicates, liftPoints: world.lift,
    meanDifference: mean(results.map((r) => r.difference)),
    oracleSd, meanSe: mean(results.map((r) => r.se)), meanNaiveSe: mean(results.map((r) => r.naiveSe)),
    meanDifferenceSe: mean(results.map((r) => r.differenceSe)),
    seRatio: oracleSd / mean(results.map((r) => r.se)),
    oracle: share((r) => hit(twoSidedT(r.difference / oracleSd, Infinity), r.difference)),
    serviceFixed: share((r) => hit(r.fixedP, r.difference)),
    serviceAlwaysValid: share((r) => hit(r.alwaysValidP, r.difference)),
    serviceSignificantFixed: share((r) => (lift ? r.significantFixed : r.fixedP < ALPHA && r.anyFixed)),
    serviceSignificantAlwaysValid: share((r) => r.significantAlwaysValid),
    anyMetricFixed: share((r) => r.anyFixed),
    differenceCgmFixed: share((r) => hit(twoSidedT(r.difference / r.differenceSe, Infinity), r.difference)),
    welch: share((r) => hit(r.welch.p, r.welch.difference)),
    alwaysValidByTuning: Object.fromEntries(TUNINGS.map((t) => [t, share((r) => hit(r.alwaysValidPByTuning[t], r.difference))])),
  };
}

/**
 * The eval's worlds, plus two power worlds only this offline run can afford: the split design at the eval's power
 * size, and the feed design at 450 videos per arm, where the correctly-sized fixed test has about 80% power.
 */
export function simulationWorlds(replicates: number, scale = 1): World[] {
  const videos = (n: number) => Math.max(4, Math.round(n * scale));
  return [
    ...calibrationWorlds(replicates, replicates, scale),
    { name: 'power-split-m16', design: 'split', videosPerArm: videos(100), viewersPerVideo: 16, replicates, lift: 3, looks: false },
    { name: 'power-feed-m16-450', design: 'feed', videosPerArm: videos(450), viewersPerVideo: 16, replicates, lift: 3, looks: false },
  ];
}

function main(): void {
  const { values } = parseArgs({
    options: {
      replicates: { type: 'string', default: '400' },
      seed: { type: 'string', default: '11' },
      worlds: { type: 'string' },
      scale: { type: 'string', default: '1' },
    },
  });
  const replicates = Number(values.replicates);
  const wanted = values.worlds?.split(',');
  const worlds = simulationWorlds(replicates, Number(values.scale)).filter((w) => !wanted || wanted.includes(w.name));
  const started = process.cpuUsage();
  const summaries = worlds.map((w, i) => simulateWorld(w, Number(values.seed) * 1000 + i));
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `Offline calibration worlds through the api's estimator (compareTotals): ${replicates} replicates per world; like rate, b − a`,
    'oracle = z test with the true SD of the difference across replicates (a correctly-sized fixed test); "rejects" = p < 0.05 (and positive in a lift world)',
    '',
    '| world | design | videos/arm | viewers/video | lift | mean diff | oracle SD | service SE | naive SE | CGM-of-difference SE | SD ÷ service SE | oracle rejects | service fixed | service always-valid (N* 5,000) | like significant, BH 11 metrics, fixed / always-valid | CGM-of-difference fixed | Welch per-video |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|',
    ...summaries.map((s) => `| ${s.world} | ${s.design} | ${s.videosPerArm} | ${s.viewersPerVideo} | ${s.liftPoints ? `+${s.liftPoints} pts` : 'A/A'} | ${s.meanDifference.toFixed(4)} | ${s.oracleSd.toFixed(4)} | ${s.meanSe.toFixed(4)} | ${s.meanNaiveSe.toFixed(4)} | ${s.meanDifferenceSe.toFixed(4)} | ${s.seRatio.toFixed(2)} | ${pct(s.oracle)} | ${pct(s.serviceFixed)} | ${pct(s.serviceAlwaysValid)} | ${pct(s.serviceSignificantFixed)} / ${pct(s.serviceSignificantAlwaysValid)} | ${pct(s.differenceCgmFixed)} | ${pct(s.welch)} |`),
    '',
    `| world | always-valid rejects by tuning N* (total viewers; default ${DEFAULT_SEQUENTIAL_TUNING}) |`,
    '|---|---|',
    ...summaries.map((s) => `| ${s.world} | ${TUNINGS.map((t) => `${t}: ${pct(s.alwaysValidByTuning[t])}`).join(', ')} |`),
  ];
  console.log(lines.join('\n'));
  const cpu = process.cpuUsage(started);
  console.log(JSON.stringify({ replicates, cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10, worlds: Object.fromEntries(summaries.map((s) => [s.world, s])) }));
}

if (require.main === module) main();
