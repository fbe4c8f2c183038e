import { DEFAULT_GENERATOR, DemoGenerator, DemoWorld, Rng, dot, norm } from './demo-world';

/**
 * The demo's world model on its own (test/demo.test.ts runs it end to end through the real services): the
 * optimum is what it claims, users choose by utility with the position bias on top, and one preference update
 * moves the generator toward what was chosen, inside its trust region.
 */
describe('demo world', () => {
  const world = new DemoWorld();

  it('is a pure function of its seed', () => {
    const again = new DemoWorld();
    expect(again.categories.map((c) => Array.from(c.taste))).toEqual(world.categories.map((c) => Array.from(c.taste)));
    expect(again.users.map((u) => [u.id, u.segment, Array.from(u.offset)])).toEqual(world.users.map((u) => [u.id, u.segment, Array.from(u.offset)]));
    expect(new DemoWorld({ seed: 8 }).categories[0].taste).not.toEqual(world.categories[0].taste);
    const a = new Rng(3);
    const b = new Rng(3);
    expect(Array.from({ length: 5 }, () => a.normal())).toEqual(Array.from({ length: 5 }, () => b.normal()));
  });

  it('has users whose tastes differ, in both segments', () => {
    expect(new Set(world.users.map((u) => u.segment))).toEqual(new Set(['creators', 'casual']));
    const spread = world.users.map((u) => norm(u.offset));
    expect(Math.max(...spread) - Math.min(...spread)).toBeGreaterThan(0.5);
  });

  it('puts the optimum at the norm cap along the population taste, above any other direction', () => {
    const { value, theta } = world.optimum(1);
    expect(theta.every((t) => Math.abs(norm(t) - 1) < 1e-9)).toBe(true);
    expect(world.alignment(theta)).toBeCloseTo(1, 9);
    const rng = new Rng(11);
    for (let trial = 0; trial < 50; trial++) {
      const other = theta.map((t) => {
        const v = t.map(() => rng.normal());
        return v.map((x) => x / norm(v));
      });
      expect(world.trueSatisfaction(other)).toBeLessThan(value);
    }
  });

  it('has users choose the better candidate more often, and the first slot more often than its utility earns', () => {
    const best = world.optimum(1).theta[0];
    const worst = best.map((x) => -x);
    const chooseFirst = (first: number[], second: number[], seed: number) => {
      const rng = new Rng(seed);
      let firstChosen = 0;
      for (let i = 0; i < 400; i++) {
        const user = world.users[i % world.users.length];
        const events = world.react(user, 0, `r${i}`, [
          { videoId: 'a', features: first, durationMs: 8000 }, { videoId: 'b', features: second, durationMs: 8000 },
        ], rng, Date.UTC(2026, 10, 1));
        const choose = events.filter((e) => e.type === 'choose');
        expect(choose).toHaveLength(1);
        if (choose[0].videoId === 'a') firstChosen++;
      }
      return firstChosen / 400;
    };
    expect(chooseFirst(best, worst, 1)).toBeGreaterThan(0.85); // utility decides
    const same = chooseFirst(best, best, 2);
    expect(same).toBeGreaterThan(0.6); // equal utility: position bias alone (logit 0.8 → ~0.69)
    expect(same).toBeLessThan(0.8);
  });

  it('moves the generator toward chosen candidates by one DPO step, inside the norm cap', () => {
    const generator = DemoGenerator.initial(world, DEFAULT_GENERATOR, 5);
    const target = world.optimum(1).theta;
    const rng = new Rng(9);
    // Pairs where the chosen candidate is the one closer to the optimum, as ideal users would choose.
    const pairs = [];
    for (let i = 0; i < 600; i++) {
      const category = i % world.categories.length;
      const x = generator.sample(category, rng);
      const y = generator.sample(category, rng);
      const better = dot(target[category], x) >= dot(target[category], y);
      pairs.push({ category, chosen: better ? x : y, rejected: better ? y : x, weight: 1 });
    }
    const { next, stats } = generator.update(pairs);
    expect(stats.pairs).toBe(600);
    expect(stats.step).toBeGreaterThan(0);
    expect(world.alignment(next.theta)).toBeGreaterThan(world.alignment(generator.theta));
    expect(world.trueSatisfaction(next.theta)).toBeGreaterThan(world.trueSatisfaction(generator.theta));
    expect(next.theta.every((t) => norm(t) <= DEFAULT_GENERATOR.normCap + 1e-9)).toBe(true);
    // The update returns a new version; this one is unchanged, and pairs without weight move nothing.
    expect(generator.update(pairs.map((p) => ({ ...p, weight: 0 }))).next.theta).toEqual(generator.theta);
  });
});
