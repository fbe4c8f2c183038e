import { loadConfig } from '@flywheel/config';
import { ROLLUP_COLUMNS } from '@flywheel/database';
import { TestDatabase, openTestDatabase } from '@flywheel/database/testing';
import { DIMENSION_COUNTERS, DIMENSION_MOMENT_COLUMNS, MOMENT_COLUMNS, MOMENT_COUNTERS, ROLLUP_COUNTERS, VIDEO_AGGREGATE_COUNTERS } from '@flywheel/satisfaction';

/**
 * Facts the code declares once (libs/satisfaction's ROLLUP_COUNTERS) that the schema repeats in SQL: the migrated
 * tables must say the same, read back from the database itself; the daily rollups have one writer, the hourly one's.
 */
describe('one source per fact: the rollup counters', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase(loadConfig().database, { poolSize: 1 });
  });
  afterAll(() => db?.close());

  const KEYS = new Set(['project_id', 'hour', 'day', 'model', 'model_version', 'category', 'segment', 'policy_id',
    'video_id', 'user_hash', 'created_at', 'unit', 'clusters', 'dimension']);
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

  it('the per-user aggregates have the moments\' counters, the per-video ones those and Σ², the cluster moments the moment columns', async () => {
    await expect(counterColumns('video_aggregates')).resolves.toEqual([...VIDEO_AGGREGATE_COUNTERS]);
    expect(VIDEO_AGGREGATE_COUNTERS).toHaveLength(15);
    await expect(counterColumns('user_aggregates')).resolves.toEqual([...MOMENT_COUNTERS]);
    expect(MOMENT_COUNTERS).toHaveLength(14);
    await expect(counterColumns('cluster_moments')).resolves.toEqual(MOMENT_COLUMNS.map((m) => m.name));
  });

  it('the per-rating-dimension tables have the dimension counters, their moments the dimension moment columns', async () => {
    for (const table of ['dimension_rollups', 'dimension_rollups_daily', 'dimension_video_aggregates', 'dimension_user_aggregates']) {
      await expect(counterColumns(table)).resolves.toEqual([...DIMENSION_COUNTERS]);
    }
    await expect(counterColumns('dimension_cluster_moments')).resolves.toEqual(DIMENSION_MOMENT_COLUMNS.map((m) => m.name));
  });

  it('one writer for both rollup tables: no trigger copies hourly rows into the daily table behind the code', async () => {
    const triggers: { tgname: string }[] = await db.query(
      `SELECT tgname FROM pg_trigger WHERE tgrelid = 'satisfaction_rollups'::regclass AND NOT tgisinternal`,
    );
    expect(triggers).toEqual([]);
  });
});
