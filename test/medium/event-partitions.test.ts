import { FlywheelConfig, loadConfig } from '@flywheel/config';
import { FeedbackEventMessage } from '@flywheel/contracts';
import {
  DAY_MS, EventPartition, EventPartitions, IngestRepository, partitionName, ProjectsRepository, dropDatabase, migrate,
} from '@flywheel/database';
import { TestDatabase, openTestDatabase } from '@flywheel/database/testing';
import { QuantilesSource, SignalPipeline, rebuildProject } from '@flywheel/ingest';
import { CURRENT_POLICY, DEFAULT_WATCH_QUANTILES, WatchQuantiles } from '@flywheel/satisfaction';
import { diffDerivedState, readDerivedState } from '../support/derived-state';
import { waitFor } from '../support/harness';
import { trainerConfig, trainerRunner } from './trainer-world';

/**
 * Medium tier: feedback_events partitioned by occurred_at (migration PartitionedFeedbackEvents) and its maintenance
 * (EventPartitions), in this process against the real PostgreSQL. Runs in a database of its own: it migrates down
 * and up and drops partitions, which the run's shared database must not see.
 */
describe('feedback_events time partitions, retention and the migration (medium)', () => {
  const base = loadConfig().database;
  const config: FlywheelConfig['database'] = { ...base, name: `${base.name}_partitions` };
  let db: TestDatabase;
  let ingest: IngestRepository;
  let projects: ProjectsRepository;
  let partitions: EventPartitions;
  const quantiles: QuantilesSource = {
    forProjects: async (ids) => new Map<string, WatchQuantiles>(ids.map((id) => [id, DEFAULT_WATCH_QUANTILES])),
  };
  const pipeline = new SignalPipeline(CURRENT_POLICY, quantiles);
  const MIGRATION = 'PartitionedFeedbackEvents1764002700000';

  beforeAll(async () => {
    await dropDatabase(config);
    await migrate(config);
    db = await openTestDatabase(config, { poolSize: 4 });
    ingest = db.make(IngestRepository);
    projects = db.make(ProjectsRepository);
    partitions = db.make(EventPartitions);
  }, 60000);
  afterAll(async () => {
    await db?.close();
    await dropDatabase(config);
  }, 30000);

  const count = async (sql: string, params: unknown[] = []) => Number((await db.query(sql, params))[0].n);
  const event = (projectId: string, eventId: string, type: FeedbackEventMessage['type'], videoId: string, user: string, at: number): FeedbackEventMessage => ({
    v: 1, projectId, eventId, type, videoId, userHash: `h-${user}`, occurredAt: new Date(at).toISOString(), receivedAt: new Date().toISOString(),
  });
  const ingestEvents = (list: FeedbackEventMessage[]) => ingest.transaction((tx) => pipeline.ingestEvents(tx, list)).then((o) => o.persisted);
  const applied = async () => (await db.query(`SELECT name FROM schema_migrations`)).map((r: { name: string }) => r.name) as string[];
  /** Count and checksum of every stored event, in key order. */
  const fingerprint = async () => (await db.query(
    `SELECT count(*)::int AS n, md5(coalesce(string_agg(e::text, '|' ORDER BY project_id, event_id, occurred_at), '')) AS sum FROM feedback_events e`,
  ))[0] as { n: number; sum: string };

  describe('the migration, on a populated database', () => {
    it('keeps every row, carries secondary indexes over, and goes back down to one table', async () => {
      while ((await applied()).includes(MIGRATION)) await db.undoLastMigration();
      await expect(count(`SELECT count(*) AS n FROM pg_partitioned_table`)).resolves.toBe(0);
      const [{ id: projectId }] = await db.query(`INSERT INTO projects (name, feature_dim) VALUES ('migrated', 2) RETURNING id`);
      // Another change's secondary index (say, by user): it must reach every partition.
      await db.query(`CREATE INDEX feedback_events_user_idx ON feedback_events (project_id, user_hash)`);
      // 6,000 events from 2015 to a day ahead (the contract's bounds), with every optional column used.
      await db.query(
        `INSERT INTO feedback_events (project_id, event_id, type, video_id, user_hash, occurred_at, received_at, session_id,
                                      request_id, watch_ms, duration_ms, rating, dimension)
         SELECT $1, 'old-' || i, (ARRAY['play','progress','rate','like'])[1 + i % 4], 'v' || (i % 50), 'h' || (i % 70),
                CASE i % 3 WHEN 0 THEN timestamptz '2015-01-01' + i * interval '17 hours'
                           WHEN 1 THEN now() - i * interval '1 minute'
                           ELSE now() + (i % 24) * interval '55 minutes' END,
                now(), CASE WHEN i % 2 = 0 THEN 's' || i END, 'r' || (i % 9), i * 10.5, 60000, CASE WHEN i % 4 = 2 THEN 1 + i % 5 END,
                CASE WHEN i % 8 = 2 THEN 'visual_quality' END
           FROM generate_series(1, 6000) AS i`,
        [projectId],
      );
      const before = await fingerprint();
      expect(before.n).toBe(6000);

      await migrate(config);
      await expect(fingerprint()).resolves.toEqual(before);
      const list = await partitions.list();
      const history = list.find((p) => p.name === 'feedback_events_history')!;
      expect(history.from).toBeNull();
      // The history partition ends at a UTC midnight after its newest event; a week of daily partitions follows.
      const newest = await count(`SELECT extract(epoch FROM max(occurred_at)) * 1000 AS n FROM feedback_events`);
      expect(history.to!.getTime() % DAY_MS).toBe(0);
      expect(history.to!.getTime()).toBeGreaterThan(newest);
      expect(list.filter((p) => /^feedback_events_p\d{8}$/.test(p.name))).toHaveLength(7);
      expect(list[list.length - 1]).toMatchObject({ name: 'feedback_events_default', isDefault: true });
      await expect(count(`SELECT count(*) AS n FROM feedback_events_history`)).resolves.toBe(6000);
      const indexes = async (table: string) => (await db.query(`SELECT indexdef FROM pg_indexes WHERE tablename = $1`, [table])).map((r: { indexdef: string }) => r.indexdef).join('\n');
      await expect(indexes(list[1].name)).resolves.toMatch(/\(project_id, user_hash\)/);
      await expect(indexes('feedback_events')).resolves.toMatch(/UNIQUE.*\(project_id, event_id, occurred_at\)/);

      // A pre-migration event re-sent with another occurredAt: the history partition still has its key by id.
      const old = (await db.query(`SELECT * FROM feedback_events WHERE event_id = 'old-3'`))[0];
      const inserted = await ingestEvents([event(projectId, 'old-3', 'play', old.video_id, 'x', new Date(old.occurred_at).getTime() + 1000)]);
      expect(inserted).toBe(0);
      await ingestEvents([event(projectId, 'new-1', 'like', 'v1', 'u1', Date.now())]);
      const after = await fingerprint();
      expect(after.n).toBe(6001);

      // Down: one table again, with every row, and its old key and index names.
      while ((await applied()).includes(MIGRATION)) await db.undoLastMigration();
      await expect(fingerprint()).resolves.toEqual(after);
      await expect(indexes('feedback_events')).resolves.toMatch(/feedback_events_pkey ON public.feedback_events USING btree \(project_id, event_id\)/);
      await expect(indexes('feedback_events')).resolves.toMatch(/feedback_events_user_idx ON/);
      await migrate(config);
      await expect(fingerprint()).resolves.toEqual(after);
      await db.query(`DELETE FROM feedback_events`);
    }, 120000);
  });

  describe('deduplication: the key is (project, eventId, occurredAt)', () => {
    // Days past the history partition (it ends at most two days from now).
    const base = Math.floor(Date.now() / DAY_MS) * DAY_MS + 5 * DAY_MS;
    const day = (n: number, hour = 12) => base + n * DAY_MS + hour * 3_600_000;
    let projectId: string;
    beforeAll(async () => {
      projectId = (await projects.create('dedup', 2)).id;
      await partitions.maintain(new Date(day(0)), { period: 'day', aheadDays: 7 });
    });

    it('a retry with the same occurredAt changes nothing, also at a partition boundary', async () => {
      const lastMs = day(1, 0) - 1; // 23:59:59.999, the last instant of a partition
      const batch = [event(projectId, 'b-1', 'like', 'v', 'u', lastMs), event(projectId, 'b-2', 'play', 'v', 'u', lastMs + 1)];
      await expect(ingestEvents(batch)).resolves.toBe(2);
      await expect(ingestEvents(batch)).resolves.toBe(0);
      // The same event twice in one batch is stored and folded once.
      await expect(ingestEvents([event(projectId, 'b-3', 'share', 'v', 'u', lastMs), event(projectId, 'b-3', 'share', 'v', 'u', lastMs)])).resolves.toBe(1);
      const rows = await db.query(`SELECT tableoid::regclass::text AS part, event_id FROM feedback_events WHERE project_id = $1 ORDER BY event_id`, [projectId]);
      expect(rows).toEqual([
        { part: partitionName(day(0, 0)), event_id: 'b-1' }, { part: partitionName(day(1, 0)), event_id: 'b-2' },
        { part: partitionName(day(0, 0)), event_id: 'b-3' },
      ]);
      const [signal] = await db.query(`SELECT event_count, liked, shared FROM video_user_signals WHERE project_id = $1`, [projectId]);
      expect(signal).toEqual({ event_count: 3, liked: true, shared: true });
    });

    it('one batch holding an eventId twice, at two times (two partitions): stores and folds both, also next to events known by id alone', async () => {
      const first = event(projectId, 'twice', 'like', 'x', 'u', day(2, 10));
      const second = event(projectId, 'twice', 'share', 'x', 'u', day(3, 9));
      const other = event(projectId, 'once', 'play', 'x', 'u2', day(3, 9));
      await expect(ingestEvents([first, other, second])).resolves.toBe(3);
      await expect(ingestEvents([first, other, second])).resolves.toBe(0);
      const [signal] = await db.query(
        `SELECT event_count, liked, shared FROM video_user_signals WHERE project_id = $1 AND video_id = 'x' AND user_hash = 'h-u'`, [projectId]);
      expect(signal).toEqual({ event_count: 2, liked: true, shared: true });
      const incremental = await readDerivedState(db, projectId);
      await rebuildProject(ingest, quantiles, CURRENT_POLICY, projectId);
      expect(diffDerivedState(incremental, await readDerivedState(db, projectId))).toBe('');
    });

    it('a retry with another occurredAt (here the next day: another partition) is a second event, and state still equals a rebuild', async () => {
      const first = event(projectId, 'r-1', 'like', 'w', 'u', day(0, 10));
      const resent = { ...first, occurredAt: new Date(day(1, 9)).toISOString() };
      await expect(ingestEvents([first])).resolves.toBe(1);
      const rollupBefore = await db.query(`SELECT sum(viewers)::int AS viewers, sum(likes)::int AS likes FROM satisfaction_rollups WHERE project_id = $1`, [projectId]);
      await expect(ingestEvents([resent])).resolves.toBe(1);
      await expect(count(`SELECT count(*) AS n FROM feedback_events WHERE project_id = $1 AND event_id = 'r-1'`, [projectId])).resolves.toBe(2);
      // Both rows fold into one (video, user) row: flags are unchanged, the event count and last-event time move.
      const [signal] = await db.query(
        `SELECT event_count, liked, first_event_at, last_event_at FROM video_user_signals WHERE project_id = $1 AND video_id = 'w'`, [projectId]);
      expect(signal).toEqual({ event_count: 2, liked: true, first_event_at: new Date(day(0, 10)), last_event_at: new Date(day(1, 9)) });
      // Rollups count viewers and likes per (video, user): the same as before the retry.
      await expect(db.query(`SELECT sum(viewers)::int AS viewers, sum(likes)::int AS likes FROM satisfaction_rollups WHERE project_id = $1`, [projectId]))
        .resolves.toEqual(rollupBefore);
      const incremental = await readDerivedState(db, projectId);
      await rebuildProject(ingest, quantiles, CURRENT_POLICY, projectId);
      expect(diffDerivedState(incremental, await readDerivedState(db, projectId))).toBe('');
    });
  });

  describe('maintenance across a month of synthetic time', () => {
    const start = Date.UTC(2027, 0, 4, 3); // a Monday, 03:00 UTC
    const options = { period: 'day' as const, aheadDays: 7 };
    /** What was ingested: per project, the occurredAt of each event. */
    const ledger = new Map<string, number[]>();
    const ids: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
    let serial = 0;

    const ingestDay = async (now: number) => {
      const list: FeedbackEventMessage[] = [];
      for (const [name, projectId] of Object.entries(ids)) {
        // Recent events, a late one (3 days old) and one a day ahead (a clock running fast, as the contract allows).
        for (const at of [now - 3_600_000, now - 7_200_000, now - 3 * DAY_MS, now + 23 * 3_600_000]) {
          const n = serial++;
          list.push(event(projectId, `${name}-${n}`, n % 2 ? 'like' : 'play', `v${n % 40}`, `u${n}`, at));
          ledger.get(projectId)!.push(at);
        }
      }
      await expect(ingestEvents(list)).resolves.toBe(list.length);
    };
    const cutoff = (now: number, days: number) => Math.floor((now - days * DAY_MS) / DAY_MS) * DAY_MS;
    const retentions = async () => new Map((await projects.list()).map((p) => [p.id, p.eventRetentionDays]));

    /** Partitions are contiguous from the oldest to at least now + aheadDays, and nothing kept was lost. */
    const checkInvariants = async (now: number) => {
      const list = (await partitions.list()).filter((p) => !p.isDefault);
      for (let i = 1; i < list.length; i++) expect(list[i].from).toEqual(list[i - 1].to);
      expect(list[list.length - 1].to!.getTime()).toBeGreaterThanOrEqual(now + options.aheadDays * DAY_MS);
      const kept = await retentions();
      const horizon = [...kept.values()].some((d) => d === null) ? null : Math.max(...[...kept.values()].map(Number));
      for (const [projectId, times] of ledger) {
        const days = horizon === null ? null : kept.get(projectId)!;
        const from = days === null ? -Infinity : cutoff(now, days);
        // Every event inside the retention is there, none older than it.
        await expect(count(`SELECT count(*) AS n FROM feedback_events WHERE project_id = $1 AND occurred_at >= $2`, [projectId, new Date(Math.max(from, 0))]))
          .resolves.toBe(times.filter((t) => t >= from).length);
        if (days !== null) {
          await expect(count(`SELECT count(*) AS n FROM feedback_events WHERE project_id = $1 AND occurred_at < $2`, [projectId, new Date(from)])).resolves.toBe(0);
        }
        // Signals stay: one row per event here (each event has its own user).
        await expect(count(`SELECT count(*) AS n FROM video_user_signals WHERE project_id = $1`, [projectId])).resolves.toBe(times.length);
      }
    };

    beforeAll(async () => {
      ids.a = (await projects.create('retention-7', 2, {})).id;
      ids.b = (await projects.create('retention-14', 2, {})).id;
      ids.c = (await projects.create('forever', 2, {})).id;
      for (const id of Object.values(ids)) ledger.set(id, []);
      // Other describe blocks' projects keep their events forever: retire them, so this month sets the horizon.
      await db.query(`UPDATE projects SET deleted_at = now() WHERE id <> ALL($1::uuid[])`, [Object.values(ids)]);
      await projects.update(ids.a, { eventRetentionDays: 7 });
      await projects.update(ids.b, { eventRetentionDays: 14 });
    });

    it('creates partitions ahead, drops whole ones past the horizon, deletes by range below it, keeps signals', async () => {
      const reports = [];
      let lapsedRows = 0;
      for (let d = 0; d <= 32; d++) {
        const now = start + d * DAY_MS;
        // Days 20–28: the job does not run (say every trainer was down); events still arrive.
        const runs = d < 20 || d > 28;
        const report = runs ? await partitions.maintain(new Date(now), options) : null;
        if (report) reports.push({ d, ...report });
        if (d === 29) lapsedRows = report!.movedFromDefault;
        await ingestDay(now);
        if (runs) {
          await checkInvariants(now);
          // Late events a day ahead always find their partition; nothing waits in DEFAULT while the job runs.
          await expect(count(`SELECT count(*) AS n FROM feedback_events_default`)).resolves.toBe(0);
        }
        if (d === 10) await projects.update(ids.c, { eventRetentionDays: 10 }); // the last "forever" project gets one
      }
      // While one project kept its events forever nothing expired.
      expect(reports.filter((r) => r.d <= 10).every((r) => r.horizonDays === null && !r.dropped.length && !r.deleted.length)).toBe(true);
      // Then the horizon is the longest retention (14 days): whole partitions went, the history partition first.
      expect(reports.find((r) => r.d === 11)!.horizonDays).toBe(14);
      const dropped = reports.flatMap((r) => r.dropped);
      expect(dropped).toContain('feedback_events_history');
      expect(dropped.length).toBeGreaterThan(10);
      // The 7-day project's rows between 7 and 14 days old went row by row; the others' only with their partitions.
      expect(reports.flatMap((r) => r.deleted).every((x) => x.projectId === ids.a || x.projectId === ids.c)).toBe(true);
      // The lapse: its events waited in DEFAULT and moved into the partitions created when the job ran again.
      expect(lapsedRows).toBeGreaterThan(0);
      expect(reports.find((r) => r.d === 29)!.created.length).toBeGreaterThan(2);
    }, 120000);

    it('deletes a late event older than the horizon (it landed in DEFAULT) at the next run; its signal stays', async () => {
      const now = start + 33 * DAY_MS;
      const late = event(ids.b, 'very-late', 'like', 'v-late', 'u-late', now - 20 * DAY_MS);
      await expect(ingestEvents([late])).resolves.toBe(1);
      await expect(count(`SELECT count(*) AS n FROM feedback_events_default WHERE event_id = 'very-late'`)).resolves.toBe(1);
      const report = await partitions.maintain(new Date(now), options);
      expect(report.deleted).toContainEqual({ projectId: ids.b, rows: 1, before: new Date(cutoff(now, 14)).toISOString() });
      await expect(count(`SELECT count(*) AS n FROM feedback_events WHERE event_id = 'very-late'`)).resolves.toBe(0);
      await expect(count(`SELECT count(*) AS n FROM video_user_signals WHERE project_id = $1 AND video_id = 'v-late'`, [ids.b])).resolves.toBe(1);
    });

    it('refuses to rebuild a project whose raw events expired, and changes nothing; rebuilds one whose did not', async () => {
      const before = await readDerivedState(db, ids.a);
      await expect(rebuildProject(ingest, quantiles, CURRENT_POLICY, ids.a)).rejects.toMatchObject({
        code: 'RAW_EVENTS_EXPIRED', message: expect.stringMatching(/raw events older than .* were removed by its retention/),
      });
      expect(diffDerivedState(await readDerivedState(db, ids.a), before)).toBe('');
      const fresh = (await projects.create('fresh', 2, { eventRetentionDays: 30 })).id;
      await ingestEvents([event(fresh, 'f-1', 'like', 'v', 'u', start + 32 * DAY_MS)]);
      await expect(rebuildProject(ingest, quantiles, CURRENT_POLICY, fresh)).resolves.toMatchObject({ events: 1, signalRows: 1 });
    });

    it('a second maintainer waits its turn: one run at a time', async () => {
      const now = new Date(start + 34 * DAY_MS);
      // Without the lock both would create the day's new partition and one would fail ("already exists").
      const [one, two] = await Promise.all([partitions.maintain(now, options), partitions.maintain(now, options)]);
      expect([...one.created, ...two.created]).toEqual([partitionName(now.getTime() + options.aheadDays * DAY_MS)]);
      await expect(partitions.maintain(now, options)).resolves.toMatchObject({ ran: true, created: [], dropped: [] });
    });
  });

  it('the trainer runs the maintenance on its schedule', async () => {
    const runner = trainerRunner({
      ...trainerConfig({ ...loadConfig(), database: config }),
      trainer: { ...trainerConfig(loadConfig()).trainer, eventMaintenanceMinutes: 1 },
      events: { partitionPeriod: 'day', partitionsAheadDays: 60 },
    }, db);
    runner.start();
    try {
      const covered = async () => {
        const list: EventPartition[] = await partitions.list();
        return Math.max(...list.filter((p) => p.to).map((p) => p.to!.getTime())) >= Date.now() + 59 * DAY_MS;
      };
      await waitFor(covered, 20000, 'partitions 60 days ahead');
    } finally {
      await runner.onApplicationShutdown();
    }
  }, 30000);
});
