import { mulberry32 } from '@flywheel/random';
import { exactMcNemar, headGate, normalQuantile, pairCorrectness, promotionGate } from './promotion-gate';

/** mulberry32: seeded and fast enough for millions of draws under jest's vm (Prng is made for shuffles). */
const rngOf = mulberry32;

/**
 * Simulated paired correctness: each pair is right for both models, for the candidate only, for production only or
 * for neither, with P(candidate only) − P(production only) = the true accuracy difference Δ.
 */
function simulate(rng: () => number, n: number, production: number, delta: number, discordance: number) {
  const candidateOnly = (discordance + delta) / 2;
  const productionOnly = (discordance - delta) / 2;
  const both = production - productionOnly;
  const c = new Float64Array(n);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng();
    if (u < both) { c[i] = 1; p[i] = 1; }
    else if (u < both + candidateOnly) c[i] = 1;
    else if (u < both + candidateOnly + productionOnly) p[i] = 1;
  }
  return { c, p };
}

function promotionRate(seed: number, replicates: number, n: number, delta: number, discordance: number): number {
  const rng = rngOf(seed);
  let promoted = 0;
  for (let r = 0; r < replicates; r++) {
    const { c, p } = simulate(rng, n, 0.7, delta, discordance);
    if (promotionGate(c, p).promote) promoted++;
  }
  return promoted / replicates;
}

describe('promotionGate', () => {
  const REPLICATES = 4000;
  // 3 Monte Carlo standard errors above the claimed 5%.
  const ceiling = 0.05 + 3 * Math.sqrt((0.05 * 0.95) / REPLICATES);

  it.each([
    [200, 0.1],
    [200, 0.3],
    [1000, 0.1],
    [1000, 0.3],
  ])('promotes a candidate truly 1 point worse at most 5%% of the time (n = %i, %f discordant)', (n, discordance) => {
    const rate = promotionRate(n * 7 + discordance * 100, REPLICATES, n, -0.01, discordance);
    expect(rate).toBeLessThanOrEqual(ceiling);
    // The bound is not vacuous: at the boundary it is close to its nominal level (not, say, 0.1%).
    expect(rate).toBeGreaterThan(0.02);
  });

  it('promotes a truly worse candidate (−3 points) almost never, and a truly better one (+4 points) usually', () => {
    expect(promotionRate(11, 2000, 1000, -0.03, 0.2)).toBeLessThan(0.005);
    expect(promotionRate(12, 2000, 1000, 0.04, 0.2)).toBeGreaterThan(0.8);
  });

  it('keeps production on an exact tie, and refuses with too few pairs or undefined accuracy', () => {
    const same = Float64Array.from({ length: 400 }, (_, i) => (i % 3 ? 1 : 0));
    expect(promotionGate(same, same)).toMatchObject({ promote: false, reason: expect.stringContaining('not better'), statistics: { difference: 0 } });
    const better = Float64Array.from({ length: 150 }, () => 1);
    const worse = Float64Array.from({ length: 150 }, () => 0);
    expect(promotionGate(better, worse)).toMatchObject({ promote: false, reason: expect.stringContaining('only 150 decisive frozen pairs') });
    const ties = Float64Array.from({ length: 300 }, () => NaN);
    expect(promotionGate(ties, ties)).toMatchObject({ promote: false, reason: expect.stringContaining('never promoted') });
  });

  it('promotes a clear gain and reports its statistics', () => {
    const rng = rngOf(3);
    const { c, p } = simulate(rng, 1000, 0.7, 0.08, 0.2);
    const decision = promotionGate(c, p);
    expect(decision.promote).toBe(true);
    expect(decision.statistics).toMatchObject({ decisivePairs: 1000, confidence: 0.95, nonInferiorityMargin: 0.01 });
    expect(decision.statistics.lowerBound).toBeLessThan(decision.statistics.difference);
    expect(decision.statistics.pValue).toBeLessThan(0.05);
    expect(decision.statistics.candidateOnlyRight).toBeGreaterThan(decision.statistics.productionOnlyRight);
  });

  it('scores pairs: right, wrong, ½ for an exact score tie, NaN for a tied outcome', () => {
    const correct = pairCorrectness([2, 1, 1, 0], [1, 2, 1, 5], [1, 1, 0, 0.5]);
    expect([...correct]).toEqual([1, 0, 0.5, NaN]);
  });

  it('computes the exact McNemar p-value and normal quantiles', () => {
    expect(exactMcNemar(0, 0)).toBe(1);
    expect(exactMcNemar(0, 5)).toBeCloseTo(2 / 32, 10);
    expect(exactMcNemar(3, 7)).toBeCloseTo(0.34375, 5);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6449, 3);
  });

  describe('headGate (per-dimension veto)', () => {
    /** How often at least one of `heads` heads, each truly `delta` from production, blocks a candidate. */
    function blockRate(seed: number, replicates: number, heads: number, n: number, delta: number): number {
      const rng = rngOf(seed);
      let blocked = 0;
      for (let r = 0; r < replicates; r++) {
        let any = false;
        for (let h = 0; h < heads; h++) {
          const { c, p } = simulate(rng, n, 0.7, delta, 0.25);
          if (headGate(`h${h}`, c, p, { heads }).worse) any = true;
        }
        if (any) blocked++;
      }
      return blocked / replicates;
    }

    it.each([1, 3])('blocks a candidate whose %i head(s) are all truly as good as production at most 5%% of the time, in all', (heads) => {
      const replicates = 3000;
      const rate = blockRate(40 + heads, replicates, heads, 300, 0);
      expect(rate).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / replicates));
      // Bonferroni is conservative but not vacuous.
      expect(rate).toBeGreaterThan(0.02);
    });

    it('blocks a head truly 10 points worse almost always, and never gates a head with too few pairs', () => {
      expect(blockRate(7, 1000, 3, 300, -0.1)).toBeGreaterThan(0.95);
      const worse = Float64Array.from({ length: 150 }, () => 0);
      const right = Float64Array.from({ length: 150 }, () => 1);
      expect(headGate('text_alignment', worse, right, { heads: 1 })).toMatchObject({
        gated: false, worse: false, decisivePairs: 150, reason: expect.stringContaining('only 150 decisive frozen pairs'),
      });
      const decided = headGate('text_alignment', Float64Array.from({ length: 300 }, () => 0), Float64Array.from({ length: 300 }, () => 1), { heads: 3 });
      expect(decided).toMatchObject({ gated: true, worse: true, difference: -1, reason: expect.stringContaining('significantly worse') });
      expect(decided.confidence).toBeCloseTo(1 - 0.05 / 3, 10);
    });
  });
});
