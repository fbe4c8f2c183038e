import { rowsOf } from './sql';

describe('rowsOf', () => {
  it('unwraps the [rows, rowCount] of UPDATE … RETURNING', () => {
    expect(rowsOf([[{ id: 1 }], 1])).toEqual([{ id: 1 }]);
    expect(rowsOf([[], 0])).toEqual([]);
  });

  it('passes plain row arrays through', () => {
    expect(rowsOf([{ id: 1 }, { id: 2 }])).toEqual([{ id: 1 }, { id: 2 }]);
  });
});
