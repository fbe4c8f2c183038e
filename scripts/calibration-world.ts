/**
 * The simulated world of `npm run eval:calibration` and of its offline twin `scripts/power-simulation.ts`: two
 * versions of a generator, videos some of which are simply better than others (a video effect, N(0, 0.7²) on the logit
 * of every positive signal), users some of whom like everything (a user effect, N(0, 0.8²)), and per (video, user) view
 * one watch ratio and a draw of each signal. Both consumers draw the same random numbers in the same order, so a seed
 * gives the same views whether they go through the api (as events) or straight into the estimator (as rows).
 */
import { mulberry32 } from '@flywheel/random';

export const DAY_MS = 86_400_000;
export const VIDEO_SIGMA = 0.7;
export const USER_SIGMA = 0.8;
export const LOOKS = 7;
/** Videos a user sees in a replicate, on average (sets the number of users). */
export const VIDEOS_PER_USER = 8;
export const DURATION_MS = 10_000;

export type Design = 'feed' | 'split';
export interface World {
  name: string;
  design: Design;
  videosPerArm: number;
  viewersPerVideo: number;
  replicates: number;
  /** Points of like rate added to version b (0: an A/A world). */
  lift: number;
  /** Asked once a day for 7 days, not only at the end. */
  looks: boolean;
}

/** Base logits and how each signal loads on the video and user effects. */
export const SIGNALS = [
  { type: 'like', base: -1.4, load: 1 },
  { type: 'favorite', base: -2.6, load: 1 },
  { type: 'share', base: -3.0, load: 1 },
  { type: 'export', base: -2.5, load: 1 },
  { type: 'dislike', base: -2.8, load: -1 },
  { type: 'regenerate', base: -3.0, load: -1 },
] as const;
export type SignalType = (typeof SIGNALS)[number]['type'];

/** The eval's worlds: A/A at 4, 16 and 100 viewers per video in both designs, and the +3-point power world. */
export function calibrationWorlds(replicates: number, powerReplicates: number, scale = 1): World[] {
  const videos = (n: number) => Math.max(4, Math.round(n * scale));
  return [
    { name: 'feed-m4', design: 'feed', videosPerArm: videos(20), viewersPerVideo: 4, replicates, lift: 0, looks: false },
    { name: 'feed-m16', design: 'feed', videosPerArm: videos(20), viewersPerVideo: 16, replicates, lift: 0, looks: true },
    { name: 'split-m16', design: 'split', videosPerArm: videos(20), viewersPerVideo: 16, replicates, lift: 0, looks: true },
    { name: 'feed-m100', design: 'feed', videosPerArm: videos(8), viewersPerVideo: 100, replicates, lift: 0, looks: false },
    { name: 'split-m100', design: 'split', videosPerArm: videos(8), viewersPerVideo: 100, replicates, lift: 0, looks: false },
    { name: 'power-feed-m16', design: 'feed', videosPerArm: videos(100), viewersPerVideo: 16, replicates: powerReplicates, lift: 3, looks: false },
  ];
}

/** Mulberry32 (libs/random): a seeded uniform generator, the same as test/support/harness's prng. */
export const prng = mulberry32;

export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function normal(rand: () => number): number {
  let u = 0;
  while (u === 0) u = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** E[sigmoid(base + e)] with e ~ N(0, σ²): the marginal rate of a signal (midpoint rule). */
export function marginalRate(base: number, sigma: number): number {
  let sum = 0;
  let weight = 0;
  for (let z = -6; z <= 6; z += 0.01) {
    const w = Math.exp(-z * z / 2);
    sum += w * sigmoid(base + sigma * z);
    weight += w;
  }
  return sum / weight;
}

/** The marginal like rate of version a (no lift): about 0.24. */
export const baseLikeRate = () => marginalRate(SIGNALS[0].base, Math.hypot(VIDEO_SIGMA, USER_SIGMA));

/** The shift of the like logit that raises the marginal like rate by `points` (a fraction: 0.03 is 3 points). */
export function logitShiftFor(points: number): number {
  const sigma = Math.hypot(VIDEO_SIGMA, USER_SIGMA);
  const target = marginalRate(SIGNALS[0].base, sigma) + points;
  let lo = 0;
  let hi = 3;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (marginalRate(SIGNALS[0].base + mid, sigma) < target) lo = mid; else hi = mid;
  }
  return (lo + hi) / 2;
}

/** One (video, user) view: when it started, the watch ratio, and the signals it fired. */
export interface View {
  user: number;
  at: number;
  watchRatio: number;
  signals: SignalType[];
}

export interface SimulatedReplicate {
  /** Users drawn in this replicate (ids 0 … users − 1; in the split design arm 1's are the upper half). */
  users: number;
  /** Per arm (0: version a, 1: version b), per video, its views. */
  arms: [View[][], View[][]];
}

/**
 * One replicate of `world`: the users' effects, then per arm and video its effect and its m distinct viewers (a partial
 * Fisher–Yates shuffle of the arm's pool), each with a start time in the 7 days from `start`, a watch ratio and the
 * signals. Version b's like logit is shifted by `shift`.
 */
export function simulateReplicate(world: World, rand: () => number, start: number, shift: number): SimulatedReplicate {
  const viewsPerArm = world.videosPerArm * world.viewersPerVideo;
  // Enough users that each sees about VIDEOS_PER_USER videos, and at least a video's viewers per pool.
  const pool = Math.max(world.viewersPerVideo, Math.ceil((world.design === 'feed' ? 2 * viewsPerArm : viewsPerArm) / VIDEOS_PER_USER));
  const users = world.design === 'feed' ? pool : 2 * pool;
  const userEffect = Array.from({ length: users }, () => USER_SIGMA * normal(rand));
  const arms: [View[][], View[][]] = [[], []];
  for (let arm = 0; arm < 2; arm++) {
    const offset = world.design === 'split' ? arm * pool : 0;
    const ids = Array.from({ length: pool }, (_, i) => offset + i);
    for (let v = 0; v < world.videosPerArm; v++) {
      const videoEffect = VIDEO_SIGMA * normal(rand);
      const views: View[] = [];
      for (let k = 0; k < world.viewersPerVideo; k++) {
        const j = k + Math.floor(rand() * (pool - k));
        [ids[k], ids[j]] = [ids[j], ids[k]];
        const user = ids[k];
        const effect = videoEffect + userEffect[user];
        const at = start + Math.floor(rand() * LOOKS * DAY_MS);
        const watchRatio = Math.min(1.2, 1.25 * sigmoid(0.4 + effect + normal(rand)));
        const signals: SignalType[] = [];
        for (const signal of SIGNALS) {
          const logit = signal.base + signal.load * effect + (signal.type === 'like' && arm === 1 ? shift : 0);
          if (rand() < sigmoid(logit)) signals.push(signal.type);
        }
        views.push({ user, at, watchRatio, signals });
      }
      arms[arm].push(views);
    }
  }
  return { users, arms };
}
