import { FeedbackEventMessage, GenerationMessage, topicNames } from '@flywheel/contracts';
import { CreatedProject, DeletionsRepository, IngestRepository } from '@flywheel/database';
import { QuantilesSource, SignalPipeline, UserDeletionResult, deleteUserData, rebuildProject, runDeletion } from '@flywheel/ingest';
import { PreferenceSetRequest, buildPreferenceSet } from '@flywheel/preference-sets';
import { saltGroupKey } from '@flywheel/preferences';
import { CURRENT_POLICY, DEFAULT_WATCH_QUANTILES, WatchQuantiles } from '@flywheel/satisfaction';
import { aggregateProblems, diffDerivedState, readDerivedState } from '../support/derived-state';
import { TestContext, prng, sleep } from '../support/harness';
import { repositories, seedEvidence, trainerConfig, trainerRunner, useAppLogger } from './trainer-world';

/**
 * Medium tier: deleting a user's data (SignalPipeline.deleteUser, deleteUserData) and a project's (the purge job) in
 * this process against the real PostgreSQL. After a user's deletion the derived state must equal, column by column,
 * what a rebuild from the remaining events computes; their later events are dropped by the tombstone; preference
 * sets that never left the service are rebuilt, the others listed and marked.
 */
describe('deleting data (medium)', () => {
  const ctx = new TestContext('medium-deletion');
  let ingest: IngestRepository;
  let deletions: DeletionsRepository;
  const quantiles: QuantilesSource = {
    forProjects: async (ids) => new Map<string, WatchQuantiles>(ids.map((id) => [id, DEFAULT_WATCH_QUANTILES])),
  };
  const pipeline = new SignalPipeline(CURRENT_POLICY, quantiles);
  const deps = () => ({ ingest, deletions, pipeline });

  beforeAll(async () => {
    useAppLogger();
    await ctx.setUp();
    ingest = ctx.db.make(IngestRepository);
    deletions = ctx.db.make(DeletionsRepository);
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  const HOUR = 3_600_000;
  const T0 = Date.UTC(2026, 10, 2, 8);
  const iso = (ms: number) => new Date(ms).toISOString();
  const TYPES: FeedbackEventMessage['type'][] = ['impression', 'play', 'progress', 'complete', 'like', 'unlike', 'share', 'rate', 'choose', 'choose', 'discard', 'dislike', 'regenerate'];

  /** A random world: 12 requests of 3 candidates, 6 users, events over 3 days; some generations arrive after their events. */
  function world(projectId: string, seed: number) {
    const rand = prng(seed);
    const generations: GenerationMessage[] = [];
    for (let r = 0; r < 12; r++) {
      for (let c = 0; c < 3; c++) {
        generations.push({
          v: 1, projectId, videoId: `v${r}-${c}`, requestId: `r${r}`, prompt: `prompt ${r % 5}`, model: 'seedance',
          modelVersion: r % 2 ? '1.0' : '2.0', category: r % 3 ? 'pets' : 'travel', segment: c ? 'new' : 'returning', durationMs: 5000 + 1000 * c,
          features: [rand(), rand()], createdAt: iso(T0), receivedAt: iso(T0),
        });
      }
    }
    const events: FeedbackEventMessage[] = [];
    for (let i = 0; i < 600; i++) {
      const type = TYPES[Math.floor(rand() * TYPES.length)];
      const g = generations[Math.floor(rand() * generations.length)];
      const at = iso(T0 + Math.floor(rand() * 72 * HOUR));
      events.push({
        v: 1, projectId, eventId: `e${i}`, type, videoId: g.videoId, userHash: `user-${Math.floor(rand() * 6)}`, occurredAt: at, receivedAt: at,
        ...(type === 'rate' ? { rating: 1 + Math.floor(rand() * 5), ...(rand() < 0.6 ? { dimension: rand() < 0.5 ? 'visual_quality' : 'text_alignment' } : {}) } : {}),
        ...(type === 'progress' ? { watchMs: Math.floor(rand() * 6000), durationMs: 6000 } : {}),
      });
    }
    return { generations, events };
  }

  /** Ingests the world in batches through the pipeline, a third of the generations only after all the events. */
  async function ingestWorld(w: ReturnType<typeof world>): Promise<void> {
    const early = w.generations.filter((_, i) => i % 3 !== 0);
    const late = w.generations.filter((_, i) => i % 3 === 0);
    await ingest.transaction((tx) => pipeline.ingestGenerations(tx, early));
    for (let i = 0; i < w.events.length; i += 37) await ingest.transaction((tx) => pipeline.ingestEvents(tx, w.events.slice(i, i + 37)));
    await ingest.transaction((tx) => pipeline.ingestGenerations(tx, late));
  }

  const count = (sql: string, params: unknown[]) => ctx.count(sql, params);
  const userRows = async (projectId: string, userHash: string) => ({
    events: await count('SELECT count(*) FROM feedback_events WHERE project_id = $1 AND user_hash = $2', [projectId, userHash]),
    signals: await count('SELECT count(*) FROM video_user_signals WHERE project_id = $1 AND user_hash = $2', [projectId, userHash]),
  });

  it('removes the user\'s events and rows and subtracts them from every rollup: the state equals a rebuild, column by column', async () => {
    for (const seed of [3, 4]) {
      const projectId = (await ctx.createProject(2, `delete-${seed}`)).projectId;
      const w = world(projectId, seed);
      await ingestWorld(w);
      const victim = 'user-2';
      const before = await userRows(projectId, victim);
      expect(before.events).toBeGreaterThan(50);
      const viewersBefore = await count('SELECT sum(viewers) FROM satisfaction_rollups WHERE project_id = $1', [projectId]);
      const dailyBefore = await count('SELECT sum(viewers) FROM satisfaction_rollups_daily WHERE project_id = $1', [projectId]);
      // Their dimension ratings: one rated row per (row, dimension), in the per-dimension rollups and aggregates.
      const victimRatings = await count(`SELECT count(*) FROM video_user_signals s, jsonb_object_keys(s.dimension_ratings) k WHERE project_id = $1 AND user_hash = $2`, [projectId, victim]);
      expect(victimRatings).toBeGreaterThan(1);
      const ratedBefore = await count('SELECT sum(rated) FROM dimension_rollups WHERE project_id = $1', [projectId]);
      const dailyRatedBefore = await count('SELECT sum(rated) FROM dimension_rollups_daily WHERE project_id = $1', [projectId]);

      const job = await deletions.requestUser(projectId, victim, 'key:test');
      const result = await deleteUserData(deps(), projectId, victim, job.id);
      expect(result).toMatchObject({ events: before.events, signalRows: before.signals, setsRebuilt: [], setsAlreadyLeft: [] });
      await expect(userRows(projectId, victim)).resolves.toEqual({ events: 0, signals: 0 });
      // Each signal row counted one viewer, in the hourly and in the daily rollups.
      await expect(count('SELECT sum(viewers) FROM satisfaction_rollups WHERE project_id = $1', [projectId])).resolves.toBe(viewersBefore - before.signals);
      await expect(count('SELECT sum(viewers) FROM satisfaction_rollups_daily WHERE project_id = $1', [projectId])).resolves.toBe(dailyBefore - before.signals);
      await expect(count('SELECT sum(rated) FROM dimension_rollups WHERE project_id = $1', [projectId])).resolves.toBe(ratedBefore - victimRatings);
      await expect(count('SELECT sum(rated) FROM dimension_rollups_daily WHERE project_id = $1', [projectId])).resolves.toBe(dailyRatedBefore - victimRatings);
      await expect(count('SELECT count(*) FROM dimension_user_aggregates WHERE project_id = $1 AND user_hash = $2', [projectId, victim])).resolves.toBe(0);
      // Other users keep every event.
      await expect(count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [projectId])).resolves.toBe(w.events.length - before.events);

      const incremental = await readDerivedState(ctx.db, projectId);
      expect(incremental.signals.some((r) => r.passed_over)).toBe(true);
      expect(incremental.dimensionMoments.length).toBeGreaterThan(0);
      expect(aggregateProblems(incremental)).toBe('');
      await rebuildProject(ingest, quantiles, CURRENT_POLICY, projectId);
      const rebuilt = await readDerivedState(ctx.db, projectId);
      expect(diffDerivedState(incremental, rebuilt)).toBe('');

      // Idempotent: deleting again finds nothing and changes nothing.
      const again = await deleteUserData(deps(), projectId, victim, (await deletions.requestUser(projectId, victim, 'key:test')).id);
      expect(again).toMatchObject({ events: 0, signalRows: 0, rollupRows: 0 });
      expect(diffDerivedState(await readDerivedState(ctx.db, projectId), rebuilt)).toBe('');
    }
  }, 60000);

  it('drops the user\'s events that happened or reached the api before the deletion, whenever they arrive; later ones are a new start', async () => {
    const projectId = (await ctx.createProject(2, 'tombstone')).projectId;
    const w = world(projectId, 5);
    await ingestWorld(w);
    const job = await deletions.requestUser(projectId, 'user-1', 'key:test');
    const { tombstonedAt } = await deleteUserData(deps(), projectId, 'user-1', job.id);
    const deletedAt = Date.parse(tombstonedAt);
    const event = (eventId: string, occurredAt: number, receivedAt: number, user = 'user-1'): FeedbackEventMessage => ({
      v: 1, projectId, eventId, type: 'like', videoId: 'v1-1', userHash: user, occurredAt: iso(occurredAt), receivedAt: iso(receivedAt),
    });
    // A retry of a deleted event, an old event delivered late, an event sent before the deletion but consumed after it.
    const stale = [w.events.find((e) => e.userHash === 'user-1')!, event('late-old', T0, Date.now()), event('in-flight', deletedAt - 5, deletedAt - 1)];
    const outcome = await ingest.transaction((tx) => pipeline.ingestEvents(tx, [...stale, event('other-user', T0, T0, 'user-3')]));
    expect(outcome).toMatchObject({ persisted: 1, dropped: 3, refused: [] });
    await expect(userRows(projectId, 'user-1')).resolves.toEqual({ events: 0, signals: 0 });

    await sleep(5);
    const fresh = await ingest.transaction((tx) => pipeline.ingestEvents(tx, [event('after', Date.now(), Date.now())]));
    expect(fresh).toMatchObject({ persisted: 1, dropped: 0 });
    await expect(userRows(projectId, 'user-1')).resolves.toEqual({ events: 1, signals: 1 });
  }, 30000);

  it('waits for an ingest batch of the project in flight, then deletes what it stored too', async () => {
    const projectId = (await ctx.createProject(2, 'in-flight')).projectId;
    const at = iso(T0);
    const like = (eventId: string): FeedbackEventMessage => ({ v: 1, projectId, eventId, type: 'like', videoId: 'v', userHash: 'u', occurredAt: at, receivedAt: at });
    await ingest.transaction((tx) => pipeline.ingestEvents(tx, [like('first')]));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let stored!: () => void;
    const batchStored = new Promise<void>((resolve) => { stored = resolve; });
    const batch = ingest.transaction(async (tx) => {
      const outcome = await pipeline.ingestEvents(tx, [like('second')]);
      stored();
      await gate;
      return outcome;
    });
    await batchStored;
    let finished = false;
    const deletion = deleteUserData(deps(), projectId, 'u', (await deletions.requestUser(projectId, 'u', 'key:test')).id).then((r) => { finished = true; return r; });
    await sleep(500);
    expect(finished).toBe(false); // held by the batch's shared lock
    release();
    await expect(batch).resolves.toMatchObject({ persisted: 1 });
    await expect(deletion).resolves.toMatchObject({ events: 2, signalRows: 1 });
    await expect(userRows(projectId, 'u')).resolves.toEqual({ events: 0, signals: 0 });
    await expect(count('SELECT count(*) FROM satisfaction_rollups WHERE project_id = $1 AND viewers <> 0', [projectId])).resolves.toBe(0);
  }, 30000);

  it('reads only the event partitions of the days the user was active: a locked partition of another day does not hold it up', async () => {
    const projectId = (await ctx.createProject(2, 'pruned')).projectId;
    const DAY = 24 * HOUR;
    const noon = (daysAgo: number) => Math.floor(Date.now() / DAY) * DAY - daysAgo * DAY + 12 * HOUR;
    const like = (eventId: string, user: string, at: number): FeedbackEventMessage => ({
      v: 1, projectId, eventId, type: 'like', videoId: `v-${eventId}`, userHash: user, occurredAt: iso(at), receivedAt: iso(at),
    });
    // The user was active two days ago only (events an hour apart); another user on that day and four days ago.
    const events = [like('a1', 'active', noon(2)), like('a2', 'active', noon(2) + HOUR), like('o1', 'other', noon(2)), like('o2', 'other', noon(4))];
    await ingest.transaction((tx) => pipeline.ingestEvents(tx, events));
    const partition = `feedback_events_p${iso(noon(4)).slice(0, 10).replace(/-/g, '')}`;
    await expect(count(`SELECT count(*) FROM ${partition} WHERE project_id = $1`, [projectId])).resolves.toBe(1);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let locked!: () => void;
    const lockHeld = new Promise<void>((resolve) => { locked = resolve; });
    const holder = ctx.db.transaction(async (t) => {
      await t.query(`LOCK TABLE ${partition} IN ACCESS EXCLUSIVE MODE`);
      locked();
      await gate;
    });
    await lockHeld;
    let deletion: Promise<UserDeletionResult> | undefined;
    try {
      deletion = deleteUserData(deps(), projectId, 'active', (await deletions.requestUser(projectId, 'active', 'key:test')).id);
      const first = await Promise.race([deletion, sleep(5000).then(() => 'still waiting for the locked partition')]);
      expect(first).toMatchObject({ events: 2, signalRows: 2 });
    } finally {
      release();
      await holder;
      await deletion;
    }
    await expect(userRows(projectId, 'active')).resolves.toEqual({ events: 0, signals: 0 });
    await expect(userRows(projectId, 'other')).resolves.toEqual({ events: 2, signals: 2 });
  }, 30000);

  it('rebuilds the preference sets that never left from the remaining data, and lists and marks the exported or published ones', async () => {
    const project: CreatedProject = await ctx.createProject(4, 'sets');
    await seedEvidence(ctx.db, project);
    const r = repositories(ctx.db);
    const filters: PreferenceSetRequest = { scopes: ['request', 'prompt', 'session'], includeTies: true, seed: 1 };
    const build = async () => {
      const queued = await r.sets.create(project.projectId, filters);
      // The queue is the run's: claim past sets other files left queued (test/openapi.test.ts's, with no trainer).
      let claimed = (await r.sets.claimBuild(60_000))!;
      for (let i = 0; claimed.id !== queued.id && i < 1000; i++) claimed = (await r.sets.claimBuild(60_000))!;
      await buildPreferenceSet({ evidence: r.evidence, sets: r.sets, models: r.models, satisfaction: r.satisfaction }, claimed, filters);
      return (await r.sets.find(project.projectId, queued.id))!;
    };
    const kept = await build();
    const exported = await build();
    const published = await build();
    expect(kept).toMatchObject({ status: 'ready', exportedAt: null, containingDeletions: [] });
    expect(await r.sets.markExported(exported.id)).toBe(true);
    await r.publications.request(published.id, topicNames(ctx.prefix).preferences);
    // Session pairs are grouped by the user's salted id in the set (a salt per set and build).
    const sessionPairs = async (setId: string) => count(`SELECT count(*) FROM preference_pairs WHERE set_id = $1 AND group_key = $2`,
      [setId, saltGroupKey((await r.sets.userSalt(setId))!, 'user:user3')]);
    // A set's rows but the salted group keys, in sequence order: what two builds from the same data share.
    const rows = (setId: string) => ctx.db.query(
      `SELECT seq, chosen_id, rejected_id, margin, weight, tie, scope, split, source, dimensions,
              CASE WHEN scope = 'session' THEN '' ELSE group_key END AS group_key
         FROM preference_pairs WHERE set_id = $1 ORDER BY seq`, [setId]);
    expect(await sessionPairs(kept.id)).toBeGreaterThan(0);
    const keptRows = await rows(kept.id);

    // Queued as the api queues it; the trainer's loop runs it, then rebuilds the set that never left.
    const job = await deletions.requestUser(project.projectId, 'user3', 'key:test');
    const runner = trainerRunner(trainerConfig(ctx.config), ctx.db);
    runner.start();
    try {
      const done = await waitForValue(async () => {
        const [d, set] = [await deletions.find(job.id), await r.sets.find(project.projectId, kept.id)];
        return d?.status === 'done' && set?.status === 'ready' ? d : null;
      });
      const result = done.result as unknown as UserDeletionResult;
      expect(result.setsRebuilt).toEqual([kept.id]);
      expect(result.setsAlreadyLeft.map((s) => s.setId).sort()).toEqual([exported.id, published.id].sort());
    } finally {
      await runner.onApplicationShutdown();
    }
    await expect(r.sets.find(project.projectId, exported.id)).resolves.toMatchObject({ status: 'ready', containingDeletions: [job.id], contentSha256: exported.contentSha256 });
    await expect(r.sets.find(project.projectId, published.id)).resolves.toMatchObject({ status: 'ready', containingDeletions: [job.id] });
    const rebuilt = (await r.sets.find(project.projectId, kept.id))!;
    expect(await sessionPairs(rebuilt.id)).toBe(0);
    // Rebuilt from the remaining data: the same pairs as a set built now, from scratch, with the same filters.
    const fresh = await build();
    const rebuiltRows = await rows(rebuilt.id);
    expect(rebuiltRows.length).toBeGreaterThan(0);
    expect(rebuiltRows).not.toEqual(keptRows);
    expect(await rows(fresh.id)).toEqual(rebuiltRows);
  }, 120000);

  it('purges a deleted project: no table keeps a row of it but its row, keys and deletion records; its messages are refused', async () => {
    const project = await ctx.createProject(4, 'purge');
    await seedEvidence(ctx.db, project);
    const r = repositories(ctx.db);
    const set = await r.sets.create(project.projectId, { scopes: ['request'], seed: 1 });
    await r.models.enqueueJob(project.projectId, { scheduled: true });
    await ingest.transaction((tx) => tx.tombstone(project.projectId, 'user1'));
    const other = await ctx.createProject(4, 'bystander');
    await seedEvidence(ctx.db, other);
    const otherEvents = await count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [other.projectId]);

    const requested = (await deletions.requestProject(project.projectId, 'admin'))!;
    expect(requested.created).toBe(true);
    await expect(deletions.requestProject(project.projectId, 'admin')).resolves.toMatchObject({ created: false, deletion: { id: requested.deletion.id } });
    const done = (await runDeletion(deps(), requested.deletion.id))!;
    expect(done).toMatchObject({ status: 'done', kind: 'project' });
    expect((done.result as { removed: Record<string, number> }).removed).toMatchObject({ feedback_events: expect.any(Number), preference_sets: 1, training_jobs: 1 });

    const tables: { table: string }[] = await ctx.db.query(
      `SELECT c.relname AS table FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE a.attname = 'project_id' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relnamespace = current_schema()::regnamespace`,
    );
    expect(tables.length).toBeGreaterThan(10);
    for (const { table } of tables) {
      const left = await count(`SELECT count(*) FROM "${table}" WHERE project_id = $1`, [project.projectId]);
      expect({ table, left: ['projects', 'api_keys', 'data_deletions'].includes(table) ? 0 : left }).toEqual({ table, left: 0 });
    }
    await expect(count('SELECT count(*) FROM preference_pairs WHERE set_id = $1', [set.id])).resolves.toBe(0);
    await expect(count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [other.projectId])).resolves.toBe(otherEvents);
    await expect(count('SELECT count(*) FROM projects WHERE id = $1 AND purged_at IS NOT NULL', [project.projectId])).resolves.toBe(1);

    const at = iso(T0);
    const outcome = await ingest.transaction((tx) => pipeline.ingestEvents(tx, [
      { v: 1, projectId: project.projectId, eventId: 'late', type: 'like', videoId: 'v0-0', userHash: 'u', occurredAt: at, receivedAt: at },
      { v: 1, projectId: other.projectId, eventId: 'fine', type: 'like', videoId: 'v0-0', userHash: 'u', occurredAt: at, receivedAt: at },
    ]));
    expect(outcome).toMatchObject({ persisted: 1, dropped: 0, refused: [{ eventId: 'late' }] });
    const generation = await ingest.transaction((tx) => pipeline.ingestGenerations(tx, [{
      v: 1, projectId: project.projectId, videoId: 'new', requestId: 'r', prompt: 'p', model: 'm', modelVersion: '1', features: [1, 2, 3, 4], createdAt: at, receivedAt: at,
    }]));
    expect(generation).toMatchObject({ persisted: 0, refused: [{ videoId: 'new' }] });
    await expect(count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [project.projectId])).resolves.toBe(0);
  }, 60000);
});

async function waitForValue<T>(probe: () => Promise<T | null>, timeoutMs = 60000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > until) throw new Error('timed out');
    await sleep(100);
  }
}
