import { loadConfig } from '@flywheel/config';
import { ROLLUP_COLUMNS, createDataSource } from '@flywheel/database';
import type { TestDatabase } from '@flywheel/database/testing';
import { ROLLUP_COUNTERS } from '@flywheel/satisfaction';

/**
 * Facts the code declares once (libs/satisfaction's ROLLUP_COUNTERS) that the schema repeats in SQL: the migrated
 * tables and the daily rollup trigger must say the same, read back from the database itself.
 */
describe('one source per fact: the rollup counters', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = createDataSource(loadConfig().database, { poolSize: 1 });
    await db.initialize();
  });
  afterAll(() => db?.destroy());

  const KEYS = new Set(['project_id', 'hour', 'day', 'model', 'model_version', 'category', 'segment', 'policy_id']);
  const counterColumns = async (table: string): Promise<string[]> => {
    const rows: { column_name: string }[] = await db.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    return rows.map((r) => r.column_name).filter((c) => !KEYS.has(c));
  };

  it('the repository reads exactly the counters the policy writes', () => {
    expect([...ROLLUP_COLUMNS]).toEqual([...ROLLUP_COUNTERS]);
  });

  it('satisfaction_rollups and satisfaction_rollups_daily have exactly those counters, in that order', async () => {
    await expect(counterColumns('satisfaction_rollups')).resolves.toEqual([...ROLLUP_COUNTERS]);
    await expect(counterColumns('satisfaction_rollups_daily')).resolves.toEqual([...ROLLUP_COUNTERS]);
  });

  it('the daily trigger carries every counter from the hourly table, and nothing else', async () => {
    const [fn] = await db.query(`SELECT prosrc FROM pg_proc WHERE proname = 'satisfaction_rollups_daily_apply'`);
    const carried = [...(fn.prosrc as string).matchAll(/(\w+) = d\.\1 \+ excluded\.\1/g)].map((m) => m[1]);
    expect(carried.length).toBeGreaterThan(0);
    // once per branch of the trigger (INSERT, UPDATE, DELETE)
    expect([...new Set(carried)]).toEqual([...ROLLUP_COUNTERS]);
    expect(carried).toHaveLength(3 * ROLLUP_COUNTERS.length);
  });
});
