import { rowsOf, uuidLiteral } from './sql';

describe('rowsOf', () => {
  it('unwraps the [rows, rowCount] of UPDATE … RETURNING', () => {
    expect(rowsOf([[{ id: 1 }], 1])).toEqual([{ id: 1 }]);
    expect(rowsOf([[], 0])).toEqual([]);
  });

  it('passes plain row arrays through', () => {
    expect(rowsOf([{ id: 1 }, { id: 2 }])).toEqual([{ id: 1 }, { id: 2 }]);
  });
});

describe('uuidLiteral', () => {
  it('lets only a UUID into the SQL', () => {
    expect(uuidLiteral('7d0c4a52-1b1e-4c55-9f3e-0c1f2b3a4d5e')).toBe('7d0c4a52-1b1e-4c55-9f3e-0c1f2b3a4d5e');
    expect(() => uuidLiteral("x'; DROP TABLE preference_pairs; --")).toThrow('not a UUID');
  });
});
