import { loadConfig } from '@flywheel/config';
import { TestDatabase, openTestDatabase } from '@flywheel/database/testing';
import { float8Column, textColumn, timestamptzColumn, uuidColumn } from '@flywheel/database';

/**
 * Medium tier: the binary array parameters of the ingest path, read by the real PostgreSQL. What the server reads
 * back must be exactly what was encoded, edge values included; a wrong element type is refused, never misread.
 */
describe('binary array parameters', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase(loadConfig().database, { poolSize: 1 });
  });
  afterAll(() => db?.close());

  /** The array as the server sees it, element by element in text (one row per element, in order). */
  const read = async (param: Buffer, type: string, show = 'x::text') =>
    (await db.query(`SELECT ${show} AS v FROM unnest($1::${type}[]) WITH ORDINALITY AS t(x, n) ORDER BY n`, [param])).map((r: { v: string | null }) => r.v);
  const same = <T>(values: T[]) => [values, (x: T) => x] as const;

  it('float8: every double exactly, including −0, subnormals, the extremes and nulls', async () => {
    const values = [0, -0, 1, -1.5, 0.1, 1 / 3, Number.MAX_VALUE, Number.MIN_VALUE, -2.2250738585072014e-308, 123456789.123456789, null];
    const back = await read(float8Column(...same(values)), 'float8', `CASE WHEN x IS NULL THEN NULL ELSE float8send(x)::text END`);
    const expected = values.map((v) => {
      if (v === null) return null;
      const b = Buffer.alloc(8);
      b.writeDoubleBE(v);
      return `\\x${b.toString('hex')}`;
    });
    expect(back).toEqual(expected);
  });

  it('text in UTF-8: empty, quotes, backslashes, braces, commas and astral characters, and nulls', async () => {
    const values = ['', 'plain', 'a "quoted" \\ value', '{1,2}', 'NULL', 'emoji 🎬 and ü', 'x'.repeat(10_000), null];
    await expect(read(textColumn(...same(values)), 'text')).resolves.toEqual(values);
  });

  it('uuid and timestamptz (before and after 2000, to the microsecond)', async () => {
    const ids = ['0f0e0d0c-0b0a-0908-0706-050403020100', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '0f0e0d0c-0b0a-0908-0706-050403020100'];
    await expect(read(uuidColumn(...same(ids)), 'uuid')).resolves.toEqual(ids);
    const times = [Date.UTC(2026, 10, 30, 23, 59, 59, 999), Date.UTC(1999, 11, 31, 23, 59, 59, 1), Date.UTC(2000, 0, 1), Date.UTC(2015, 0, 1, 0, 0, 0, 7)];
    const back = await read(timestamptzColumn(...same(times)), 'timestamptz', `(extract(epoch FROM x) * 1000)::numeric::text`);
    expect(back.map(Number)).toEqual(times);
  });

  it('an empty array, and refuses a wrong element type or an id that is not a uuid', async () => {
    await expect(read(float8Column([], () => 0), 'float8')).resolves.toEqual([]);
    await expect(read(textColumn([], () => ''), 'text')).resolves.toEqual([]);
    await expect(read(float8Column(...same([1])), 'int4')).rejects.toThrow(/element type 701 \(double precision\) instead of expected 23/);
    expect(() => uuidColumn(...same(['not-a-uuid']))).toThrow(/not a uuid/);
    expect(() => timestamptzColumn(...same([0.0001]))).toThrow(/whole microsecond/);
    await expect(read(timestamptzColumn(...same([0.5])), 'timestamptz', `(extract(epoch FROM x) * 1000)::numeric::text`)).resolves.toEqual(['0.500000']);
  });
});
