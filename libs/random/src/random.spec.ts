import { mulberry32, mulberry32Uint32 } from './index';

describe('mulberry32', () => {
  it('gives the stream the five copies it replaced gave (fixtures seeded before stay the same)', () => {
    const next = mulberry32Uint32(1);
    expect([next(), next(), next()]).toEqual([2693262067, 11749833, 2265367787]);
  });

  it('is uniform in [0, 1) and the same for the same seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const draws = Array.from({ length: 100_000 }, () => a());
    expect(draws.every((x, i) => x >= 0 && x < 1 && (i > 5 || x === b()))).toBe(true);
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / draws.length));
  });
});
