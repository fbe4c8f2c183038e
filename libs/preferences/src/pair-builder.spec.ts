import { splitOf, unitHash } from './group-hash';
import { MARGIN_UNIT, buildPairs, evidenceWeight, resolvePairOptions, rewardModelMargin, rewardModelPairs } from './pair-builder';
import type { Pair, PairOptions, UserObservation, VideoEvidence } from './preference.types';
import { PreferencesError } from './preferences.errors';

// Scores are dyadic fractions so margins are exact.
function video(videoId: string, requestId: string, promptNorm: string, n: number, satShrunk: number, extra: Partial<VideoEvidence> = {}): VideoEvidence {
  return {
    videoId, requestId, promptNorm, prompt: promptNorm.toUpperCase(), modelVersion: 'm1', uri: `s3://v/${videoId}.mp4`,
    n, satMean: satShrunk, satShrunk, ...extra,
  };
}

const VIDEOS: VideoEvidence[] = [
  video('v1', 'r1', 'cat', 10, 0.5),
  video('v2', 'r1', 'cat', 10, 0.125),
  video('v3', 'r1', 'cat', 10, 0.484375), // 1/64 below v1: inside the default tie band
  video('v4', 'r1', 'cat', 0, 0), // no evidence
  video('v5', 'r2', 'cat', 5, 0.25),
  video('v6', 'r2', 'cat', 2, -0.25),
  video('v7', 'r3', 'dog', 3, 0.75), // alone in its request and prompt
];

const SEED = 1;
const catSplit = splitOf('prompt:cat', SEED, { train: 0.8, validation: 0.1, test: 0.1 });

function pair(chosenId: string, rejectedId: string, margin: number, scope: Pair['scope'], groupKey: string, extra: Partial<Pair> = {}): Pair {
  return { chosenId, rejectedId, margin, tie: false, weight: 1, scope, groupKey, split: catSplit, source: 'observed', ...extra };
}

const build = (options: Partial<PairOptions>, observations?: UserObservation[]) =>
  [...buildPairs({ videos: VIDEOS, observations }, { seed: SEED, ...options })];

describe('buildPairs', () => {
  it('pairs the candidates of each request by shrunk satisfaction', () => {
    expect(build({ scopes: ['request'] })).toEqual([
      pair('v1', 'v2', 0.375, 'request', 'request:r1'),
      pair('v3', 'v2', 0.359375, 'request', 'request:r1'),
      pair('v5', 'v6', 0.5, 'request', 'request:r2'),
    ]);
  });

  it('pairs videos of one prompt across requests only', () => {
    expect(build({ scopes: ['prompt'] })).toEqual([
      pair('v1', 'v5', 0.25, 'prompt', 'prompt:cat'),
      pair('v1', 'v6', 0.75, 'prompt', 'prompt:cat'),
      pair('v5', 'v2', 0.125, 'prompt', 'prompt:cat'),
      pair('v2', 'v6', 0.375, 'prompt', 'prompt:cat'),
      pair('v3', 'v5', 0.234375, 'prompt', 'prompt:cat'),
      pair('v3', 'v6', 0.734375, 'prompt', 'prompt:cat'),
    ]);
  });

  it("pairs one user's reactions inside the session window by that user's satisfaction", () => {
    const observations: UserObservation[] = [
      { userHash: 'u1', videoId: 'v5', satisfaction: 1, atMs: 2 * 3_600_000 }, // two hours later: another session
      { userHash: 'u1', videoId: 'v2', satisfaction: -0.5, atMs: 60_000 },
      { userHash: 'u1', videoId: 'v1', satisfaction: 0.5, atMs: 0 },
      { userHash: 'u2', videoId: 'v6', satisfaction: 0.25, atMs: 10_000 },
      { userHash: 'u2', videoId: 'v3', satisfaction: 0.25, atMs: 0 },
      { userHash: 'u2', videoId: 'unknown', satisfaction: 1, atMs: 5_000 }, // not among the videos: ignored
      { userHash: 'u3', videoId: 'v7', satisfaction: 1, atMs: 0 }, // one reaction: nothing to compare
    ];
    const split = (u: string) => splitOf(`user:${u}`, SEED, { train: 0.8, validation: 0.1, test: 0.1 });
    expect(build({ scopes: ['session'] }, observations)).toEqual([
      pair('v1', 'v2', 1, 'session', 'user:u1', { split: split('u1') }),
    ]);
    // Equal satisfaction is a tie: kept with includeTies, the smaller id as chosen.
    expect(build({ scopes: ['session'], includeTies: true }, observations)).toEqual([
      pair('v1', 'v2', 1, 'session', 'user:u1', { split: split('u1') }),
      pair('v3', 'v6', 0, 'session', 'user:u2', { split: split('u2'), tie: true }),
    ]);
    // A wider window reaches the later reaction.
    expect(build({ scopes: ['session'], sessionWindowMs: 3 * 3_600_000 }, observations).map((p) => `${p.chosenId}>${p.rejectedId}`))
      .toEqual(['v1>v2', 'v5>v1', 'v5>v2']);
  });

  it('builds nothing for the session scope without observations', () => {
    expect(build({ scopes: ['session'] })).toEqual([]);
  });

  it('emits scopes in a fixed order whatever the options say', () => {
    const scopes = build({ scopes: ['prompt', 'request'] }).map((p) => p.scope);
    expect(scopes).toEqual(['request', 'request', 'request', 'prompt', 'prompt', 'prompt', 'prompt', 'prompt', 'prompt']);
  });

  it('keeps near-ties as ties only when asked, and drops the zone between tieBand and minMargin', () => {
    const ties = build({ scopes: ['request'], includeTies: true });
    expect(ties).toContainEqual(pair('v1', 'v3', 0.015625, 'request', 'request:r1', { tie: true }));
    expect(ties).toHaveLength(4);
    // tieBand 0.01 < margin 0.015625 < minMargin 0.05: neither a tie nor a preference.
    expect(build({ scopes: ['request'], includeTies: true, tieBand: 0.01 })).toHaveLength(3);
    // minMargin 0 and tieBand 0: every distinct pair is a preference.
    expect(build({ scopes: ['request'], minMargin: 0, tieBand: 0 })).toContainEqual(pair('v1', 'v3', 0.015625, 'request', 'request:r1'));
    // A higher minMargin drops the weaker preferences.
    expect(build({ scopes: ['request'], minMargin: 0.4 }).map((p) => p.margin)).toEqual([0.5]);
  });

  it('never turns an exact tie into a preference, even with minMargin 0 (no decision by video id)', () => {
    const equal = [video('a1', 'r9', 'eq', 3, 0.25), video('a2', 'r9', 'eq', 3, 0.25), video('a3', 'r9', 'eq', 3, 0)];
    const pairs = (options: Partial<PairOptions>) => [...buildPairs({ videos: equal }, { scopes: ['request'], seed: SEED, ...options })];
    expect(pairs({ minMargin: 0 }).map((p) => [p.chosenId, p.rejectedId, p.tie])).toEqual([['a1', 'a3', false], ['a2', 'a3', false]]);
    expect(pairs({ minMargin: 0, includeTies: true }).filter((p) => p.tie).map((p) => [p.chosenId, p.rejectedId, p.margin])).toEqual([['a1', 'a2', 0]]);
  });

  it('only uses videos with at least minEvidence users in the request and prompt scopes', () => {
    const withZero = build({ scopes: ['request'], minEvidence: 0, minMargin: 0 });
    expect(withZero.filter((p) => p.chosenId === 'v4' || p.rejectedId === 'v4')).toHaveLength(3);
    const strict = build({ scopes: ['request', 'prompt'], minEvidence: 5 });
    expect(strict.some((p) => p.chosenId === 'v6' || p.rejectedId === 'v6')).toBe(false);
    expect(strict.filter((p) => p.groupKey === 'request:r2')).toEqual([]);
  });

  it('weights pairs by evidence: h / (h + k) with h the harmonic mean of the two n', () => {
    const pairs = build({ scopes: ['request'], weighting: 'evidence' });
    expect(pairs[0].weight).toBeCloseTo(10 / 15, 12); // n 10 and 10
    expect(pairs[2].weight).toBeCloseTo(20 / 7 / (20 / 7 + 5), 12); // n 5 and 2
    expect(evidenceWeight(5)(0, 10)).toBe(0);
    expect(evidenceWeight(1)(1, 1)).toBe(0.5);
  });

  it('puts request and prompt pairs of one prompt in the same split, by the prompt hash', () => {
    expect(unitHash('prompt:cat', 1)).toBe(0.5565610150806606); // the same number Python's sha1 one-liner gives
    expect(unitHash('user:abc', 7)).toBe(0.727049856679514);
    expect(splitOf('prompt:cat', 1, { train: 0.5, validation: 0.1, test: 0.4 })).toBe('validation');
    const splits = new Set(build({ scopes: ['request', 'prompt'] }).filter((p) => p.groupKey !== 'request:r3').map((p) => p.split));
    expect(splits.size).toBe(1);
  });

  it('does not depend on the order of its input', () => {
    const shuffled = [...VIDEOS].reverse();
    expect([...buildPairs({ videos: shuffled }, { seed: SEED, includeTies: true })]).toEqual(build({ includeTies: true }));
  });

  describe('maxPairsPerGroup', () => {
    const many: VideoEvidence[] = Array.from({ length: 30 }, (_, i) =>
      video(`c${String(i).padStart(2, '0')}`, 'big', 'big prompt', 4, ((i * 37) % 30) / 16));
    const all = [...buildPairs({ videos: many }, { scopes: ['request'] })];
    const sample = (seed: number, videos = many) => [...buildPairs({ videos }, { scopes: ['request'], maxPairsPerGroup: 10, seed })];

    it('samples the same pairs for the same input and seed, in enumeration order', () => {
      expect(all).toHaveLength(435);
      const a = sample(3);
      expect(a).toHaveLength(10);
      expect(sample(3)).toEqual(a);
      expect(sample(3, [...many].reverse())).toEqual(a);
      const key = (p: Pair) => `${p.chosenId}>${p.rejectedId}`;
      const positions = a.map((p) => all.findIndex((q) => key(q) === key(p)));
      expect(positions.every((pos) => pos >= 0)).toBe(true);
      expect([...positions].sort((x, y) => x - y)).toEqual(positions);
      expect(sample(4).map(key)).not.toEqual(a.map(key));
    });

    it('keeps every pair when the group has no more than the limit', () => {
      expect([...buildPairs({ videos: many.slice(0, 5) }, { scopes: ['request'], maxPairsPerGroup: 10 })]).toEqual(
        [...buildPairs({ videos: many.slice(0, 5) }, { scopes: ['request'] })],
      );
    });

    it('samples each eligible pair with about the same probability', () => {
      const five = many.slice(0, 5); // 10 eligible pairs, 3 kept
      const counts = new Map<string, number>();
      const runs = 3000;
      for (let seed = 0; seed < runs; seed++) {
        for (const p of buildPairs({ videos: five }, { scopes: ['request'], maxPairsPerGroup: 3, seed })) {
          const k = `${p.chosenId}>${p.rejectedId}`;
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
      }
      expect(counts.size).toBe(10);
      for (const c of counts.values()) expect(Math.abs(c / runs - 0.3)).toBeLessThan(0.04);
    });
  });

  it('rejects invalid options with a coded error', () => {
    const bad: Partial<PairOptions>[] = [
      { splitRatios: { train: 0.8, validation: 0.1, test: 0.2 } }, { minMargin: -1 }, { maxPairsPerGroup: 0 },
      { seed: 1.5 }, { scopes: ['nope' as never] }, { evidenceK: 0 }, { weighting: 'other' as never },
    ];
    for (const options of bad) {
      expect(() => resolvePairOptions(options)).toThrow(PreferencesError);
    }
    expect(() => resolvePairOptions({ minMargin: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(resolvePairOptions({ minMargin: 0.2 }).tieBand).toBe(0.2);
  });
});

describe('rewardModelPairs', () => {
  const videos = [
    ...VIDEOS.map((v) => ({ ...v, rewardScore: 9 })), // r1 and r2 have observed evidence; r3 has one video
    video('w1', 'r4', 'bird', 0, 0, { rewardScore: 1.5 }),
    video('w2', 'r4', 'bird', 1, 0, { rewardScore: -0.5 }),
    video('w3', 'r4', 'bird', 0, 0), // no reward score
    video('w4', 'r4', 'bird', 0, 0, { rewardScore: 1.25 }),
  ];

  it('pairs candidates of requests without observed evidence by reward score', () => {
    const split = splitOf('prompt:bird', SEED, { train: 0.8, validation: 0.1, test: 0.1 });
    const base = { scope: 'request' as const, groupKey: 'request:r4', split, source: 'reward_model' as const, tie: false, weight: 0.5 };
    expect([...rewardModelPairs(videos, { seed: SEED, weight: 0.5 })]).toEqual([
      { ...base, chosenId: 'w1', rejectedId: 'w2', margin: Math.tanh(2 / 2) },
      { ...base, chosenId: 'w1', rejectedId: 'w4', margin: Math.tanh(0.25 / 2) },
      { ...base, chosenId: 'w4', rejectedId: 'w2', margin: Math.tanh(1.75 / 2) },
    ]);
  });

  it('gives model-labelled margins the unit of observed ones (satisfaction), minMargin applying in it', () => {
    // A 10-logit gap is a near-certain preference: margin just under 1, not 10 (TRL's RewardTrainer subtracts it
    // from the reward gap, so a logit margin would demand a 10-logit separation).
    const far = [video('x1', 'r9', 'fish', 0, 0, { rewardScore: 10 }), video('x2', 'r9', 'fish', 0, 0, { rewardScore: 0 })];
    const [pair] = [...rewardModelPairs(far, {})];
    expect(pair.margin).toBeCloseTo(Math.tanh(5), 12);
    expect(pair.margin).toBeLessThan(1);
    expect(rewardModelMargin(0)).toBe(0);
    // w1 vs w4: a 0.25-logit gap is 0.124 in satisfaction units, below minMargin 0.2: dropped (it was kept as 0.25).
    expect([...rewardModelPairs(videos, { minMargin: 0.2 })].map((p) => `${p.chosenId}>${p.rejectedId}`)).toEqual(['w1>w2', 'w4>w2']);
    expect(MARGIN_UNIT).toBe('satisfaction');
  });

  it('treats a request as observed once two candidates have minEvidence users (at least one)', () => {
    // r1 has three candidates with n ≥ 3: observed. r2 has one (v5), r4 none: both thin (r2's equal scores tie).
    const thin = [...rewardModelPairs(videos, { minEvidence: 3, includeTies: true })];
    expect(new Set(thin.map((p) => p.groupKey))).toEqual(new Set(['request:r2', 'request:r4']));
    // w2 (n = 1) and one more observed candidate would make r4 observed.
    const observed = videos.map((v) => (v.videoId === 'w1' ? { ...v, n: 1 } : v));
    expect([...rewardModelPairs(observed, {})]).toEqual([]);
    // Nobody reacted to an n = 0 video, so minEvidence 0 still leaves r4 thin.
    expect([...rewardModelPairs(videos, { minEvidence: 0 })].map((p) => p.groupKey)).toEqual(['request:r4', 'request:r4', 'request:r4']);
  });
});
