import { compareStrings } from './canonical-encoding';
import { GroupSampler, splitOf } from './group-hash';
import {
  PAIR_SCOPES, Pair, PairInput, PairOptions, PairScope, PairSource, PairSplit, SplitRatios, UserObservation,
  VideoEvidence,
} from './preference.types';
import { PreferencesError } from './preferences.errors';

/** `tieBand` defaults to `minMargin` (see resolvePairOptions). */
export const DEFAULT_PAIR_OPTIONS: Readonly<Omit<PairOptions, 'tieBand'>> = Object.freeze({
  scopes: ['request', 'prompt', 'session'] as PairScope[],
  minMargin: 0.05,
  includeTies: false,
  minEvidence: 1,
  maxPairsPerGroup: null,
  sessionWindowMs: 30 * 60 * 1000,
  weighting: 'none' as const,
  evidenceK: 5,
  splitRatios: Object.freeze({ train: 0.8, validation: 0.1, test: 0.1 }),
  seed: 1,
});

/** Options for `rewardModelPairs`: the margin rules of observed pairs, a constant weight, and `minEvidence` to decide
 *  which requests lack observed evidence. */
export interface RewardPairOptions
  extends Pick<PairOptions, 'minMargin' | 'tieBand' | 'includeTies' | 'minEvidence' | 'maxPairsPerGroup' | 'splitRatios' | 'seed'> {
  /** Weight of every reward-model pair (lower it to trust model labels less than observed ones). */
  weight: number;
}

/** Fills defaults and validates; throws PreferencesError('INVALID_OPTIONS') naming the offending option. */
export function resolvePairOptions(options: Partial<PairOptions> = {}): PairOptions {
  const minMargin = options.minMargin ?? DEFAULT_PAIR_OPTIONS.minMargin;
  const resolved: PairOptions = {
    ...DEFAULT_PAIR_OPTIONS,
    ...stripUndefined(options),
    scopes: [...(options.scopes ?? DEFAULT_PAIR_OPTIONS.scopes)],
    splitRatios: { ...(options.splitRatios ?? DEFAULT_PAIR_OPTIONS.splitRatios) },
    tieBand: options.tieBand ?? minMargin,
  };
  for (const scope of resolved.scopes) {
    if (!PAIR_SCOPES.includes(scope)) invalid('scopes', `unknown scope '${String(scope)}' (expected ${PAIR_SCOPES.join(', ')})`);
  }
  nonNegative('minMargin', resolved.minMargin);
  nonNegative('tieBand', resolved.tieBand);
  nonNegative('minEvidence', resolved.minEvidence);
  nonNegative('sessionWindowMs', resolved.sessionWindowMs);
  if (!(resolved.evidenceK > 0) || !Number.isFinite(resolved.evidenceK)) invalid('evidenceK', 'must be a positive number');
  if (resolved.weighting !== 'none' && resolved.weighting !== 'evidence') invalid('weighting', "must be 'none' or 'evidence'");
  checkMaxPairs(resolved.maxPairsPerGroup);
  checkSplitRatios(resolved.splitRatios);
  checkSeed(resolved.seed);
  return resolved;
}

export function resolveRewardPairOptions(options: Partial<RewardPairOptions> = {}): RewardPairOptions {
  const { weight = 1, ...rest } = options;
  const base = resolvePairOptions({ ...rest, scopes: ['request'] });
  if (!(weight >= 0) || !Number.isFinite(weight)) invalid('weight', 'must be a finite number ≥ 0');
  const { minMargin, tieBand, includeTies, minEvidence, maxPairsPerGroup, splitRatios, seed } = base;
  return { minMargin, tieBand, includeTies, minEvidence, maxPairsPerGroup, splitRatios, seed, weight };
}

/**
 * Preference pairs from per-video evidence (and, for the session scope, per-user observations), streamed.
 *
 * - `request`: candidates of one request, compared by `satShrunk`; group `request:<requestId>`.
 * - `prompt`: videos sharing `promptNorm` from different requests (same-request pairs belong to the request scope),
 *   compared by `satShrunk`; group `prompt:<promptNorm>`.
 * - `session`: two videos one user reacted to at most `sessionWindowMs` apart, compared by that user's own
 *   satisfaction; group `user:<userHash>`. Only videos present in `input.videos` are paired (exports need their
 *   prompt and URI). `minEvidence` does not apply; for weighting each side counts as n = 1.
 *
 * Request and prompt scopes only use videos with n ≥ minEvidence and a finite score.
 *
 * Margin rules, with margin = |Δscore|: margin = 0 or margin < tieBand → a tie (kept only with includeTies);
 * tieBand ≤ margin < minMargin → dropped (too close to call, too far to be a tie); otherwise a preference, which
 * always has margin > 0. `chosenId` is the higher score (for a tie, the smaller video id is written first), so
 * `margin` ≥ 0.
 *
 * Weights: 'none' → 1. 'evidence' → h / (h + evidenceK) with h = 2·nₐ·n_b / (nₐ + n_b), the harmonic mean of the
 * two videos' user counts: a pair is only as strong as its weaker side, and the weight rises toward 1 the way a shrunk
 * mean leaves its prior (evidenceK plays the prior strength; default 5, as the satisfaction policy's).
 *
 * Splits are per group, from unitHash(splitKey, seed) (see group-hash.ts). The split key of request- and
 * prompt-scope pairs is `prompt:<promptNorm>`: a request's candidates share its prompt, so a prompt's request pairs
 * and cross-request pairs land in the same split and neither a request nor a prompt straddles train and test. The
 * session scope splits by `user:<userHash>`. (A video can still reach two splits through a session pair and a
 * request pair: users and prompts cross, and no split by group can avoid that.)
 *
 * `maxPairsPerGroup`: reservoir sampling over the group's eligible pairs, seeded by the group key and seed.
 *
 * Output is a pure function of the input set and options, not of input order: scopes come in the order request,
 * prompt, session; groups in key order; pairs in member order (video id; for sessions, time then video id).
 */
export function* buildPairs(input: PairInput, options: Partial<PairOptions> = {}): Generator<Pair> {
  const o = resolvePairOptions(options);
  const weightOf = o.weighting === 'evidence' ? evidenceWeight(o.evidenceK) : () => 1;
  const rules: PairRules = { ...o, weightOf, source: 'observed', marginOf: OBSERVED_MARGIN };
  const eligible = input.videos.filter((v) => v.n >= o.minEvidence && Number.isFinite(v.satShrunk));
  if (o.scopes.includes('request')) {
    for (const group of requestGroups(eligible, (v) => v.satShrunk)) yield* pairsOfGroup(group, rules);
  }
  if (o.scopes.includes('prompt')) {
    for (const group of promptGroups(eligible)) yield* pairsOfGroup(group, rules);
  }
  if (o.scopes.includes('session') && input.observations) {
    const known = new Set(input.videos.map((v) => v.videoId));
    for (const group of sessionGroups(input.observations, known, o.sessionWindowMs)) yield* pairsOfGroup(group, rules);
  }
}

/**
 * Pairs from reward-model scores for requests without enough observed evidence: fewer than two candidates observed
 * by at least max(1, minEvidence) users, so the request scope has nothing to compare (a video nobody reacted to is
 * never evidence, so minEvidence 0 acts as 1). Candidates with a finite `rewardScore` are compared by it; scope
 * 'request', source 'reward_model', split like observed pairs (by prompt), weight `options.weight`. Margins are
 * rewardModelMargin(|Δscore|), in the satisfaction unit of observed margins (MARGIN_UNIT); minMargin and tieBand
 * apply to them in that unit.
 */
export function* rewardModelPairs(videos: readonly VideoEvidence[], options: Partial<RewardPairOptions> = {}): Generator<Pair> {
  const o = resolveRewardPairOptions(options);
  const observedAt = Math.max(1, o.minEvidence);
  const evidenced = new Map<string, number>();
  for (const v of videos) if (v.n >= observedAt) evidenced.set(v.requestId, (evidenced.get(v.requestId) ?? 0) + 1);
  const scored = videos.filter(
    (v) => (evidenced.get(v.requestId) ?? 0) < 2 && v.rewardScore !== undefined && Number.isFinite(v.rewardScore),
  );
  const rules: PairRules = { ...o, weightOf: () => o.weight, source: 'reward_model', marginOf: rewardModelMargin };
  for (const group of requestGroups(scored, (v) => v.rewardScore as number)) yield* pairsOfGroup(group, rules);
}

interface Member {
  id: string;
  score: number;
  n: number;
  /** Prompt scope: members of the same cluster (request) are not paired. */
  cluster: string;
  /** Session scope: time of the reaction (0 elsewhere). */
  t: number;
}

interface Group {
  scope: PairScope;
  groupKey: string;
  splitKey: string;
  /** Sorted: the enumeration order of pairs. */
  members: Member[];
  crossClusterOnly: boolean;
  /** Pairs need t_j − t_i ≤ window (members sorted by t). */
  window: number;
}

interface PairRules {
  minMargin: number;
  tieBand: number;
  includeTies: boolean;
  maxPairsPerGroup: number | null;
  splitRatios: SplitRatios;
  seed: number;
  source: PairSource;
  weightOf: (nA: number, nB: number) => number;
  /** |Δscore| → margin in the one unit of every source (see MARGIN_UNIT). */
  marginOf: (scoreGap: number) => number;
}

/**
 * The unit of every pair's `margin` (and of minMargin and tieBand), whatever its source: the satisfaction scale.
 * An observed pair's margin is the difference of the two videos' shrunk mean satisfaction (each in −1..1, so 0..2).
 * A reward-model pair's score gap Δ is a Bradley–Terry logit difference; it enters as tanh(Δ/2) = 2·σ(Δ) − 1, the
 * expected ±1 comparison outcome the model predicts (0..1): a margin the same size as an observed one for the same
 * confidence, never a 5-logit margin that TRL's RewardTrainer (loss −log σ(r_c − r_r − margin)) would chase.
 */
export const MARGIN_UNIT = 'satisfaction';
const OBSERVED_MARGIN = (gap: number) => gap;
export const rewardModelMargin = (logitGap: number): number => Math.tanh(logitGap / 2);

function* requestGroups(videos: readonly VideoEvidence[], score: (v: VideoEvidence) => number): Generator<Group> {
  for (const [requestId, list] of sortedGroups(videos, (v) => v.requestId)) {
    if (list.length < 2) continue;
    let promptNorm = list[0].promptNorm;
    for (const v of list) if (v.promptNorm < promptNorm) promptNorm = v.promptNorm;
    yield {
      scope: 'request', groupKey: `request:${requestId}`, splitKey: `prompt:${promptNorm}`,
      members: list.map((v) => ({ id: v.videoId, score: score(v), n: v.n, cluster: '', t: 0 })).sort(byId),
      crossClusterOnly: false, window: Infinity,
    };
  }
}

function* promptGroups(videos: readonly VideoEvidence[]): Generator<Group> {
  for (const [promptNorm, list] of sortedGroups(videos, (v) => v.promptNorm)) {
    if (list.length < 2 || list.every((v) => v.requestId === list[0].requestId)) continue;
    const groupKey = `prompt:${promptNorm}`;
    yield {
      scope: 'prompt', groupKey, splitKey: groupKey,
      members: list.map((v) => ({ id: v.videoId, score: v.satShrunk, n: v.n, cluster: v.requestId, t: 0 })).sort(byId),
      crossClusterOnly: true, window: Infinity,
    };
  }
}

function* sessionGroups(observations: Iterable<UserObservation>, known: ReadonlySet<string>, windowMs: number): Generator<Group> {
  const byUser = new Map<string, Member[]>();
  for (const ob of observations) {
    if (!known.has(ob.videoId) || !Number.isFinite(ob.satisfaction) || !Number.isFinite(ob.atMs)) continue;
    let list = byUser.get(ob.userHash);
    if (!list) byUser.set(ob.userHash, (list = []));
    list.push({ id: ob.videoId, score: ob.satisfaction, n: 1, cluster: '', t: ob.atMs });
  }
  for (const userHash of [...byUser.keys()].sort(compareStrings)) {
    const members = byUser.get(userHash)!;
    if (members.length < 2) continue;
    const groupKey = `user:${userHash}`;
    members.sort((a, b) => a.t - b.t || compareStrings(a.id, b.id) || a.score - b.score);
    yield { scope: 'session', groupKey, splitKey: groupKey, members, crossClusterOnly: false, window: windowMs };
  }
}

function* pairsOfGroup(g: Group, r: PairRules): Generator<Pair> {
  const m = g.members;
  const split = splitOf(g.splitKey, r.seed, r.splitRatios);
  const keep = (a: Member, b: Member): boolean => {
    if (a.id === b.id || (g.crossClusterOnly && a.cluster === b.cluster)) return false;
    const margin = r.marginOf(Math.abs(a.score - b.score));
    return isTie(margin, r.tieBand) ? r.includeTies : margin >= r.minMargin;
  };
  if (r.maxPairsPerGroup === null) {
    for (let i = 0; i < m.length; i++) {
      for (let j = i + 1; j < m.length && m[j].t - m[i].t <= g.window; j++) {
        if (keep(m[i], m[j])) yield makePair(m[i], m[j], g, split, r);
      }
    }
    return;
  }
  // Reservoir sampling (Algorithm R) over the eligible pairs in enumeration order; the kept ones are emitted in
  // that order too, so sampling changes which pairs appear, never how they are ordered.
  const k = r.maxPairsPerGroup;
  const sampler = new GroupSampler(g.groupKey, r.seed);
  const keptI: number[] = [];
  const keptJ: number[] = [];
  const keptT: number[] = [];
  let seen = 0;
  for (let i = 0; i < m.length; i++) {
    for (let j = i + 1; j < m.length && m[j].t - m[i].t <= g.window; j++) {
      if (!keep(m[i], m[j])) continue;
      if (seen < k) {
        keptI.push(i);
        keptJ.push(j);
        keptT.push(seen);
      } else {
        const slot = sampler.nextInt(seen + 1);
        if (slot < k) {
          keptI[slot] = i;
          keptJ[slot] = j;
          keptT[slot] = seen;
        }
      }
      seen++;
    }
  }
  const order = keptT.map((_, s) => s).sort((a, b) => keptT[a] - keptT[b]);
  for (const s of order) yield makePair(m[keptI[s]], m[keptJ[s]], g, split, r);
}

function makePair(a: Member, b: Member, g: Group, split: PairSplit, r: PairRules): Pair {
  const d = a.score - b.score;
  // Equal scores are a tie (the smaller id only decides which side is written first, never a winner).
  const aChosen = d > 0 || (d === 0 && a.id < b.id);
  const margin = r.marginOf(Math.abs(d));
  return {
    chosenId: aChosen ? a.id : b.id,
    rejectedId: aChosen ? b.id : a.id,
    margin,
    tie: isTie(margin, r.tieBand),
    weight: r.weightOf(a.n, b.n),
    scope: g.scope,
    groupKey: g.groupKey,
    split,
    source: r.source,
  };
}

/** A strict preference needs a margin > 0: an exact tie is a tie whatever tieBand (even 0) says. */
function isTie(margin: number, tieBand: number): boolean {
  return margin === 0 || margin < tieBand;
}

/** h / (h + k), h = harmonic mean of the two user counts (0 when either is 0). */
export function evidenceWeight(k: number): (nA: number, nB: number) => number {
  return (nA, nB) => {
    const h = nA > 0 && nB > 0 ? (2 * nA * nB) / (nA + nB) : 0;
    return h / (h + k);
  };
}

/** Items by key, each group in item order, groups in first-seen order. */
export function groupBy<T>(items: readonly T[], by: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = by(item);
    const list = groups.get(key);
    if (list) list.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

function sortedGroups<T>(items: readonly T[], keyOf: (item: T) => string): [string, T[]][] {
  return [...groupBy(items, keyOf).entries()].sort((a, b) => compareStrings(a[0], b[0]));
}

function byId(a: Member, b: Member): number {
  return compareStrings(a.id, b.id) || a.score - b.score;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function invalid(option: string, message: string): never {
  throw new PreferencesError('INVALID_OPTIONS', `${option}: ${message}`, { details: { option } });
}

function nonNegative(option: string, value: number): void {
  if (!(value >= 0) || !Number.isFinite(value)) invalid(option, 'must be a finite number ≥ 0');
}

function checkMaxPairs(value: number | null): void {
  if (value !== null && !(Number.isSafeInteger(value) && value >= 1)) invalid('maxPairsPerGroup', 'must be null or an integer ≥ 1');
}

function checkSplitRatios(r: SplitRatios): void {
  const parts = [r.train, r.validation, r.test];
  if (parts.some((x) => !(x >= 0) || !Number.isFinite(x)) || Math.abs(parts[0] + parts[1] + parts[2] - 1) > 1e-9) {
    invalid('splitRatios', 'train, validation and test must be ≥ 0 and add up to 1');
  }
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) invalid('seed', 'must be an integer');
}
