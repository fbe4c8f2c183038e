import { groupAdvantages } from './group-advantages';

describe('groupAdvantages', () => {
  it('is (r − mean) / population std within each group', () => {
    // group 0: 1, 2, 3 → mean 2, population std sqrt(2/3); group 1: 10, 30 → mean 20, std 10
    const a = groupAdvantages([1, 10, 2, 30, 3], [0, 1, 0, 1, 0], 2);
    const s = Math.sqrt(2 / 3);
    expect(Array.from(a)).toEqual([-1 / s, -1, 0, 1, 1 / s].map((x) => expect.closeTo(x, 12)));
  });

  it('gives each group mean 0 and population variance 1', () => {
    const values = Array.from({ length: 24 * 5 }, (_, i) => Math.sin(i * 1.7) * 3 + (i % 5));
    const groupOf = values.map((_, i) => i % 5);
    const a = groupAdvantages(values, groupOf, 5);
    for (let g = 0; g < 5; g++) {
      const members = Array.from(a).filter((_, i) => groupOf[i] === g);
      const mean = members.reduce((x, y) => x + y, 0) / members.length;
      const variance = members.reduce((x, y) => x + (y - mean) ** 2, 0) / members.length;
      expect(mean).toBeCloseTo(0, 12);
      expect(variance).toBeCloseTo(1, 12);
    }
  });

  it('answers 0 for a group of one and for a group whose rewards are all equal, never NaN', () => {
    // 0.1 (as float32) three times: a float64 mean need not equal the value exactly; equal values still give 0.
    const tenth = Math.fround(0.1);
    const a = groupAdvantages(Float32Array.of(5, tenth, tenth, tenth, -2, 4), [0, 1, 1, 1, 2, 2], 3);
    expect(Array.from(a)).toEqual([0, 0, 0, 0, -1, 1]);
  });

  it('reads one column of a row-major matrix with stride and offset', () => {
    const matrix = Float32Array.of(1, 100, 2, 300, 3, 200); // rows (1, 100), (2, 300), (3, 200)
    expect(Array.from(groupAdvantages(matrix, [0, 0, 0], 1, 2, 1))).toEqual(Array.from(groupAdvantages([100, 300, 200], [0, 0, 0], 1)));
  });

  it('does not lose precision for rewards far from zero', () => {
    const a = groupAdvantages([1e8 + 1, 1e8 + 2, 1e8 + 3], [0, 0, 0], 1);
    expect(a[2]).toBeCloseTo(Math.sqrt(3 / 2), 9);
  });
});
