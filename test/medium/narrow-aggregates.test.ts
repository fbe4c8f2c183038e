import { FlywheelConfig, loadConfig } from '@flywheel/config';
import { FeedbackEventMessage, GenerationMessage } from '@flywheel/contracts';
import { IngestRepository, ProjectsRepository, dropDatabase, migrate } from '@flywheel/database';
import { TestDatabase, openTestDatabase } from '@flywheel/database/testing';
import { QuantilesSource, SignalPipeline } from '@flywheel/ingest';
import { CURRENT_POLICY, DEFAULT_WATCH_QUANTILES, MOMENT_COUNTERS, ROLLUP_COUNTERS, VIDEO_AGGREGATE_COUNTERS, WatchQuantiles } from '@flywheel/satisfaction';

/**
 * Medium tier: the migration NarrowAggregates on its own database. Up keeps the
 * counters each table still has unchanged; down puts the others back, filled so that the per-user and per-video
 * aggregates again sum to the hourly rollups counter by counter; up again drops them.
 */
describe('migration NarrowAggregates (medium)', () => {
  const base = loadConfig().database;
  const config: FlywheelConfig['database'] = { ...base, name: `${base.name}_narrow_aggregates` };
  let db: TestDatabase;
  const quantiles: QuantilesSource = {
    forProjects: async (ids) => new Map<string, WatchQuantiles>(ids.map((id) => [id, DEFAULT_WATCH_QUANTILES])),
  };
  const pipeline = new SignalPipeline(CURRENT_POLICY, quantiles);

  beforeAll(async () => {
    await dropDatabase(config);
    await migrate(config);
    db = await openTestDatabase(config, { poolSize: 2 });
  }, 60000);
  afterAll(async () => {
    await db?.close();
    await dropDatabase(config);
  }, 30000);

  const columns = async (table: string) => (await db.query(
    `SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND data_type = 'double precision' ORDER BY ordinal_position`, [table],
  )).map((r: { column_name: string }) => r.column_name);
  const sumsOf = async (table: string, counters: readonly string[]) => (await db.query(
    `SELECT model, model_version, ${counters.map((c) => `sum(${c})::float8 AS ${c}`).join(', ')} FROM ${table} GROUP BY 1, 2 ORDER BY 1, 2`));
  const rollupSums = (counters: readonly string[]) => sumsOf('satisfaction_rollups', counters);

  it('up keeps the counters each table still has; down restores the others from the signal rows; up drops them again', async () => {
    const ingest = db.make(IngestRepository);
    const projectId = (await db.make(ProjectsRepository).create('narrow', 2)).id;
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 3, 9, minute)).toISOString();
    const generations: GenerationMessage[] = ['a', 'b', 'c'].map((v, i) => ({
      v: 1, projectId, videoId: v, requestId: 'r', prompt: 'p', model: 'seedance', modelVersion: `v${i % 2}`, features: [0.1, 0.2],
      createdAt: at(0), receivedAt: at(0),
    }));
    const types: FeedbackEventMessage['type'][] = ['impression', 'play', 'complete', 'like', 'comment', 'report', 'rate', 'choose', 'progress'];
    const events: FeedbackEventMessage[] = [];
    for (let i = 0; i < 90; i++) {
      const type = types[i % types.length];
      events.push({
        v: 1, projectId, eventId: `e${i}`, type, videoId: ['a', 'b', 'c', 'x'][i % 4], userHash: `h-${i % 7}`, occurredAt: at(i % 50),
        receivedAt: at(i % 50), requestId: type === 'choose' ? 'r' : undefined, ...(type === 'rate' ? { rating: 1 + (i % 5) } : {}),
        ...(type === 'progress' ? { watchMs: 1000 + i * 10, durationMs: 5000 } : {}),
      });
    }
    await ingest.transaction((tx) => pipeline.ingestGenerations(tx, generations));
    await ingest.transaction((tx) => pipeline.ingestEvents(tx, events));

    expect(await columns('user_aggregates')).toEqual([...MOMENT_COUNTERS]);
    expect(await columns('video_aggregates')).toEqual([...VIDEO_AGGREGATE_COUNTERS]);
    const keptUsers = await sumsOf('user_aggregates', MOMENT_COUNTERS);
    const keptVideos = await sumsOf('video_aggregates', VIDEO_AGGREGATE_COUNTERS);
    expect(keptUsers).toEqual(await rollupSums(MOMENT_COUNTERS));
    expect(keptVideos.map((r: Record<string, number>) => r.viewers)).toEqual((await rollupSums(['viewers'])).map((r: Record<string, number>) => r.viewers));
    expect(keptUsers.length).toBeGreaterThanOrEqual(3);

    // Down to before NarrowAggregates (and the migrations after it).
    const applied = async () => (await db.query(`SELECT name FROM schema_migrations`)).map((r: { name: string }) => r.name) as string[];
    while ((await applied()).includes('NarrowAggregates1764004300000')) await db.undoLastMigration();
    const dropped = ['impressions', 'comments', 'chosen', 'passed_over', 'reports', 'rating_sum', 'rating_count', 'watch_sumsq'];
    expect(await columns('user_aggregates')).toEqual([...MOMENT_COUNTERS, ...dropped, 'sat_sumsq']);
    expect(await columns('video_aggregates')).toEqual([...VIDEO_AGGREGATE_COUNTERS, ...dropped]);
    const rollups = await rollupSums(ROLLUP_COUNTERS);
    for (const table of ['user_aggregates', 'video_aggregates']) {
      const restored = await sumsOf(table, ROLLUP_COUNTERS);
      expect(restored.length).toBe(rollups.length);
      restored.forEach((row: Record<string, number>, i: number) => {
        for (const c of ROLLUP_COUNTERS) expect([table, c, row[c]]).toEqual([table, c, expect.closeTo(rollups[i][c], 6)]);
      });
      // Something was restored: the narrowed tables have none of these.
      expect(restored.some((r: Record<string, number>) => r.impressions > 0 && r.rating_count > 0 && r.watch_sumsq > 0)).toBe(true);
    }

    await migrate(config);
    expect(await columns('user_aggregates')).toEqual([...MOMENT_COUNTERS]);
    expect(await columns('video_aggregates')).toEqual([...VIDEO_AGGREGATE_COUNTERS]);
    expect(await sumsOf('user_aggregates', MOMENT_COUNTERS)).toEqual(keptUsers);
    expect(await sumsOf('video_aggregates', VIDEO_AGGREGATE_COUNTERS)).toEqual(keptVideos);
  }, 60000);
});
