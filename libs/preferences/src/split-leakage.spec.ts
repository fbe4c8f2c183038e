import { mulberry32 } from '@flywheel/random';
import { buildPairs } from './pair-builder';
import type { Pair, PairSplit, UserObservation, VideoEvidence } from './preference.types';

/** mulberry32: the fixtures are random but the same on every run. */
const rng = mulberry32;

function randomEvidence(seed: number): { videos: VideoEvidence[]; observations: UserObservation[] } {
  const random = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const videos: VideoEvidence[] = [];
  for (let p = 0; p < 600; p++) {
    const requests = int(1, 3);
    for (let r = 0; r < requests; r++) {
      for (let c = int(2, 4); c > 0; c--) {
        const sat = random() * 2 - 1;
        videos.push({
          videoId: `v${videos.length}`, requestId: `p${p}-r${r}`, promptNorm: `prompt ${p}`, prompt: `Prompt ${p}`,
          modelVersion: 'm1', uri: null, n: int(0, 20), satMean: sat, satShrunk: sat,
        });
      }
    }
  }
  const observations: UserObservation[] = [];
  for (let u = 0; u < 400; u++) {
    let at = int(0, 1e9);
    for (let k = int(1, 6); k > 0; k--) {
      observations.push({ userHash: `u${u}`, videoId: `v${int(0, videos.length - 1)}`, satisfaction: random() * 2 - 1, atMs: at });
      at += int(0, 20 * 60_000);
    }
  }
  return { videos, observations };
}

function splitsBy(pairs: Pair[], key: (p: Pair) => string): Map<string, Set<PairSplit>> {
  const out = new Map<string, Set<PairSplit>>();
  for (const p of pairs) {
    const k = key(p);
    if (!out.has(k)) out.set(k, new Set());
    out.get(k)!.add(p.split);
  }
  return out;
}

describe('splits by group hash (property over random evidence)', () => {
  for (const seed of [1, 2, 3]) {
    it(`keeps every group, and every prompt, in one split (fixture ${seed})`, () => {
      const input = randomEvidence(seed);
      const pairs = [...buildPairs(input, { seed, includeTies: true })];
      expect(new Set(pairs.map((p) => p.scope))).toEqual(new Set(['request', 'prompt', 'session']));

      const byGroup = splitsBy(pairs, (p) => p.groupKey);
      for (const splits of byGroup.values()) expect(splits.size).toBe(1);

      // Request- and prompt-scope pairs of one prompt share a split, so no prompt straddles train and test.
      const promptOf = new Map(input.videos.map((v) => [v.videoId, v.promptNorm]));
      const byPrompt = splitsBy(pairs.filter((p) => p.scope !== 'session'), (p) => promptOf.get(p.chosenId)!);
      for (const splits of byPrompt.values()) expect(splits.size).toBe(1);

      // Ratios hold over groups (not pairs: groups differ in size): about 0.8 / 0.1 / 0.1 of ~1,000 groups.
      const counts = { train: 0, validation: 0, test: 0 };
      for (const splits of [...byPrompt.values(), ...splitsBy(pairs.filter((p) => p.scope === 'session'), (p) => p.groupKey).values()]) {
        counts[[...splits][0]]++;
      }
      const total = counts.train + counts.validation + counts.test;
      expect(total).toBeGreaterThan(700);
      expect(Math.abs(counts.train / total - 0.8)).toBeLessThan(0.05);
      expect(Math.abs(counts.validation / total - 0.1)).toBeLessThan(0.04);
      expect(Math.abs(counts.test / total - 0.1)).toBeLessThan(0.04);
    });
  }

  it('moves whole groups when the seed changes, and honours other ratios', () => {
    const input = randomEvidence(9);
    const a = [...buildPairs(input, { seed: 1 })];
    const b = [...buildPairs(input, { seed: 2 })];
    expect(b.map((p) => `${p.chosenId}>${p.rejectedId}`)).toEqual(a.map((p) => `${p.chosenId}>${p.rejectedId}`));
    expect(b.map((p) => p.split)).not.toEqual(a.map((p) => p.split));
    const half = [...buildPairs(input, { seed: 1, splitRatios: { train: 0.5, validation: 0, test: 0.5 } })];
    const groups = splitsBy(half, (p) => p.groupKey);
    const trainShare = [...groups.values()].filter((s) => s.has('train')).length / groups.size;
    expect(half.some((p) => p.split === 'validation')).toBe(false);
    expect(Math.abs(trainShare - 0.5)).toBeLessThan(0.06);
  });
});
