import { randomUUID } from 'node:crypto';
import { loadConfig } from '@flywheel/config';
import { FeedbackEventMessage, GenerationMessage } from '@flywheel/contracts';
import { IngestRepository, IngestTransaction, ProjectsRepository } from '@flywheel/database';
import { TestDatabase, openTestDatabase } from '@flywheel/database/testing';
import { QuantilesSource, SignalPipeline, rebuildProject } from '@flywheel/ingest';
import { CURRENT_POLICY, DEFAULT_WATCH_QUANTILES, WatchQuantiles } from '@flywheel/satisfaction';
import { aggregateProblems, diffDerivedState, readDerivedState } from '../support/derived-state';
import { prng, waitFor } from '../support/harness';

/**
 * Medium tier: SignalPipeline and IngestTransaction in-process against the real PostgreSQL (no Kafka, no worker
 * process). Derived state must equal a rebuild whatever the order in which events and generations arrive, including
 * two transactions that overlap: one holds its effects uncommitted while the other runs.
 */
describe('SignalPipeline: derived state equals a rebuild whatever the arrival order', () => {
  let db: TestDatabase;
  let ingest: IngestRepository;
  const quantiles: QuantilesSource = {
    forProjects: async (ids) => new Map<string, WatchQuantiles>(ids.map((id) => [id, DEFAULT_WATCH_QUANTILES])),
  };
  const pipeline = new SignalPipeline(CURRENT_POLICY, quantiles);

  beforeAll(async () => {
    db = await openTestDatabase(loadConfig().database, { poolSize: 6 });
    ingest = db.make(IngestRepository);
  });
  afterAll(() => db?.close());

  const newProject = async () => (await db.make(ProjectsRepository).create('medium', 2)).id;
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 3, 9, minute)).toISOString();
  const event = (projectId: string, eventId: string, type: FeedbackEventMessage['type'], videoId: string, user: string, minute: number): FeedbackEventMessage => ({
    v: 1, projectId, eventId, type, videoId, userHash: `h-${user}`, occurredAt: at(minute), receivedAt: at(minute),
    ...(type === 'rate' ? { rating: 4 } : {}),
  });
  const generation = (projectId: string, videoId: string, requestId: string): GenerationMessage => ({
    v: 1, projectId, videoId, requestId, prompt: `prompt of ${requestId}`, model: 'seedance', modelVersion: `${videoId}-v`,
    category: 'pets', features: [0.5, 1], createdAt: at(0), receivedAt: at(0),
  });
  const events = (list: FeedbackEventMessage[]) => ingest.transaction((tx) => pipeline.ingestEvents(tx, list));
  const generations = (list: GenerationMessage[]) => ingest.transaction((tx) => pipeline.ingestGenerations(tx, list));

  /** Incremental state, then a rebuild from the stored rows: every difference, or '' when they are equal. */
  async function differenceFromRebuild(projectId: string): Promise<string> {
    const incremental = await readDerivedState(db, projectId);
    await rebuildProject(ingest, quantiles, CURRENT_POLICY, projectId);
    const rebuilt = await readDerivedState(db, projectId);
    return [diffDerivedState(incremental, rebuilt), aggregateProblems(incremental), aggregateProblems(rebuilt)].filter(Boolean).join('\n');
  }

  const signal = async (projectId: string, videoId: string, user: string) => {
    const [row] = await db.query(
      'SELECT passed_over, chosen, rollup_attributed, rollup_hour FROM video_user_signals WHERE project_id = $1 AND video_id = $2 AND user_hash = $3',
      [projectId, videoId, `h-${user}`],
    );
    return row;
  };

  /**
   * Runs `first` in a transaction that stays open (its effects uncommitted) while `second` runs in another one, until
   * `second` has committed or waits for a lock; then `first` commits. Both must end committed.
   */
  async function overlap(first: (tx: IngestTransaction) => Promise<unknown>, second: (tx: IngestTransaction) => Promise<unknown>) {
    let reached!: () => void;
    let release!: () => void;
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const firstDone = ingest.transaction(async (tx) => {
      await first(tx);
      reached();
      await gate;
    });
    await Promise.race([atGate, firstDone]);
    let secondSettled = false;
    const secondDone = ingest.transaction(second).finally(() => (secondSettled = true));
    const waitingOnLock = async () => Number((await db.query(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    ))[0].n) > 0;
    await waitFor(async () => secondSettled || (await waitingOnLock()), 20000, 'the second transaction to commit or wait for a lock');
    release();
    await Promise.all([firstDone, secondDone]);
  }

  describe('a choose that arrives before its request\'s generations', () => {
    it('marks the other candidates passed over once the generations arrive', async () => {
      const p = await newProject();
      await events([
        { ...event(p, 'e1', 'progress', 's1', 'u1', 1), watchMs: 4040, durationMs: 11000 }, // a ratio a real column rounds
        event(p, 'e2', 'choose', 'c', 'u1', 70), // a later hour than u1's impression of s1
        event(p, 'e3', 'like', 'x', 'u2', 5),
      ]);
      await generations([generation(p, 'c', 'r'), generation(p, 's1', 'r'), generation(p, 's2', 'r'), generation(p, 'x', 'other')]);
      await expect(signal(p, 's1', 'u1')).resolves.toMatchObject({ passed_over: true, rollup_attributed: true });
      await expect(signal(p, 's2', 'u1')).resolves.toMatchObject({ passed_over: true, rollup_attributed: true });
      await expect(differenceFromRebuild(p)).resolves.toBe('');
    });

    it('also when the chosen video\'s generation comes first and its siblings\' later, or the other way round', async () => {
      const p = await newProject();
      await generations([generation(p, 'c', 'r')]);
      await events([event(p, 'e1', 'choose', 'c', 'u1', 10)]);
      await generations([generation(p, 's1', 'r')]);
      await generations([generation(p, 's2', 'r')]);

      await generations([generation(p, 't1', 'q'), generation(p, 't2', 'q')]);
      await events([event(p, 'e2', 'choose', 'd', 'u2', 20), event(p, 'e3', 'play', 't1', 'u2', 90)]);
      await generations([generation(p, 'd', 'q')]);
      for (const [video, user] of [['s1', 'u1'], ['s2', 'u1'], ['t1', 'u2'], ['t2', 'u2']]) {
        await expect(signal(p, video, user)).resolves.toMatchObject({ passed_over: true, rollup_attributed: true });
      }
      await expect(differenceFromRebuild(p)).resolves.toBe('');
    });
  });

  it('folds event times as they are stored, also those with more than millisecond precision', async () => {
    const p = await newProject();
    const late = (eventId: string, type: FeedbackEventMessage['type'], occurredAt: string) => ({ ...event(p, eventId, type, 'v', 'u1', 0), occurredAt });
    await generations([generation(p, 'v', 'r')]);
    await events([late('e1', 'play', '2026-11-03T09:59:59.9999996Z'), late('e2', 'like', '2026-11-03T10:30:00.000001+00:00')]);
    await events([late('e3', 'unlike', '2026-11-03T10:30:00.0000004+00:00')]);
    await expect(differenceFromRebuild(p)).resolves.toBe('');
  });

  describe('an events transaction and a generations transaction that overlap', () => {
    it('attributes rows whose generation commits while the events are still uncommitted', async () => {
      const p = await newProject();
      await overlap(
        (tx) => pipeline.ingestEvents(tx, [event(p, 'e1', 'like', 'v', 'u1', 1), event(p, 'e2', 'play', 'v', 'u2', 2)]),
        (tx) => pipeline.ingestGenerations(tx, [generation(p, 'v', 'r')]),
      );
      await expect(signal(p, 'v', 'u1')).resolves.toMatchObject({ rollup_attributed: true });
      await expect(differenceFromRebuild(p)).resolves.toBe('');
    });

    it('attributes rows whose events commit while the generation is still uncommitted', async () => {
      const p = await newProject();
      await overlap(
        (tx) => pipeline.ingestGenerations(tx, [generation(p, 'v', 'r')]),
        (tx) => pipeline.ingestEvents(tx, [event(p, 'e1', 'like', 'v', 'u1', 1), event(p, 'e2', 'play', 'v', 'u2', 2)]),
      );
      await expect(signal(p, 'v', 'u1')).resolves.toMatchObject({ rollup_attributed: true });
      await expect(differenceFromRebuild(p)).resolves.toBe('');
    });

    it('marks a sibling passed over when the choose and the sibling\'s generation overlap, in either order', async () => {
      for (const chooseFirst of [true, false]) {
        const p = await newProject();
        await generations([generation(p, 'c', 'r')]);
        const choose = (tx: IngestTransaction) => pipeline.ingestEvents(tx, [event(p, 'e1', 'choose', 'c', 'u1', 3)]);
        const sibling = (tx: IngestTransaction) => pipeline.ingestGenerations(tx, [generation(p, 's', 'r')]);
        await (chooseFirst ? overlap(choose, sibling) : overlap(sibling, choose));
        await expect(signal(p, 's', 'u1')).resolves.toMatchObject({ passed_over: true, rollup_attributed: true });
        await expect(differenceFromRebuild(p)).resolves.toBe('');
      }
    });

    it('marks siblings passed over when the chosen video\'s generation and the choose overlap, in either order', async () => {
      for (const chooseFirst of [true, false]) {
        const p = await newProject();
        await generations([generation(p, 's', 'r')]);
        const choose = (tx: IngestTransaction) => pipeline.ingestEvents(tx, [event(p, 'e1', 'choose', 'c', 'u1', 3)]);
        const chosen = (tx: IngestTransaction) => pipeline.ingestGenerations(tx, [generation(p, 'c', 'r')]);
        await (chooseFirst ? overlap(choose, chosen) : overlap(chosen, choose));
        await expect(signal(p, 's', 'u1')).resolves.toMatchObject({ passed_over: true, rollup_attributed: true });
        await expect(differenceFromRebuild(p)).resolves.toBe('');
      }
    });

    it('marks siblings passed over when two candidates\' generations overlap after the choose', async () => {
      const p = await newProject();
      await events([event(p, 'e1', 'choose', 'c', 'u1', 3)]);
      await overlap(
        (tx) => pipeline.ingestGenerations(tx, [generation(p, 'c', 'r')]),
        (tx) => pipeline.ingestGenerations(tx, [generation(p, 's', 'r')]),
      );
      await expect(signal(p, 's', 'u1')).resolves.toMatchObject({ passed_over: true, rollup_attributed: true });
      await expect(differenceFromRebuild(p)).resolves.toBe('');
    });
  });

  it('keeps per-video and per-user aggregates and cluster moments equal to a rebuild under replays, toggles and late generations', async () => {
    const p = await newProject();
    const rand = prng(5);
    const types: FeedbackEventMessage['type'][] = ['impression', 'play', 'like', 'unlike', 'favorite', 'share', 'complete', 'dislike', 'rate', 'discard'];
    const videos = ['a', 'b', 'c', 'd', 'e', 'f'];
    const all: FeedbackEventMessage[] = [];
    for (let i = 0; i < 240; i++) {
      const video = videos[Math.floor(rand() * videos.length)];
      const user = `u${Math.floor(rand() * 9)}`;
      all.push(event(p, `e${i}`, types[Math.floor(rand() * types.length)], video, user, Math.floor(rand() * 180)));
    }
    await generations([generation(p, 'a', 'r1'), generation(p, 'b', 'r1'), generation(p, 'c', 'r2')]);
    for (let i = 0; i < all.length; i += 30) {
      await events(all.slice(i, i + 30));
      if (i === 90) await generations([generation(p, 'd', 'r2'), generation(p, 'e', 'r3')]); // some rows move to their version
      if (i % 60 === 0) await events(all.slice(Math.max(0, i - 40), i + 10)); // replays change nothing
    }
    const state = await readDerivedState(db, p);
    expect(state.videos.filter((r) => r.model_version !== '').length).toBeGreaterThan(3);
    expect(state.users.length).toBeGreaterThan(9);
    expect(state.moments.filter((m) => m.unit === 'user').length).toBeGreaterThan(3);
    expect(state.videos.every((r) => (r.model === '') === (r.created_at === null))).toBe(true);
    await expect(differenceFromRebuild(p)).resolves.toBe('');
  });

  it('prepares the per-batch statements once per connection: later batches parse and plan nothing new, and fold the same', async () => {
    const single = await openTestDatabase(loadConfig().database, { poolSize: 1 }); // one connection: its prepared statements are visible
    try {
      const repo = single.make(IngestRepository);
      const p = await newProject();
      const run = (list: FeedbackEventMessage[]) => repo.transaction((tx) => pipeline.ingestEvents(tx, list));
      const prepared = async () => (await single.query(
        `SELECT name, generic_plans + custom_plans AS plans FROM pg_prepared_statements WHERE name LIKE 'fw\\_%' ORDER BY name`,
      )) as { name: string; plans: number }[];
      await repo.transaction((tx) => pipeline.ingestGenerations(tx, [generation(p, 'a', 'r'), generation(p, 'b', 'r')]));
      const batch = (n: number) => [
        event(p, `i${n}`, 'impression', 'a', `u${n}`, n), event(p, `l${n}`, 'like', 'a', 'u0', n), event(p, `c${n}`, 'choose', 'a', 'u0', n),
      ].map((e) => (e.type === 'choose' ? { ...e, requestId: 'r' } : e));
      await run(batch(1));
      await run(batch(2)); // updates rows the first one created: every statement of the path has run by now
      const after2 = await prepared();
      await run(batch(3));
      await run(batch(4));
      const after4 = await prepared();
      expect(after2.length).toBeGreaterThanOrEqual(10);
      expect(after4.map((s) => s.name)).toEqual(after2.map((s) => s.name));
      expect(after4.filter((s, i) => Number(s.plans) > Number(after2[i].plans)).length).toBeGreaterThanOrEqual(10);
      await expect(differenceFromRebuild(p)).resolves.toBe('');
    } finally {
      await single.close();
    }
  });

  it('a project\'s deletion lock holds back no other project, also none that shared its stripe in the old 256-stripe scheme', async () => {
    // The old key: FNV-1a of `${projectId}:` modulo 256. Find a project id that collides with A's there.
    const oldStripe = (id: string) => {
      let h = 0x811c9dc5;
      for (const ch of `${id}:`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
      return (h >>> 0) % 256;
    };
    const a = randomUUID();
    let b = randomUUID();
    while (oldStripe(b) !== oldStripe(a)) b = randomUUID();
    const waitingOnAdvisory = async () => Number((await db.query(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
    ))[0].n) > 0;
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const deletion = ingest.transaction(async (tx) => {
      await tx.lockProjects('exclusive', [a]); // as a deletion or a rebuild of A does
      held();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await holding;
    let aDone = false;
    let own: Promise<unknown> = Promise.resolve();
    try {
      // B's batch takes its lock shared: it must not wait (on the old key it waited for A's transaction).
      let bDone = false;
      const other = ingest.transaction((tx) => tx.lockProjects('shared', [b])).finally(() => (bDone = true));
      await waitFor(async () => bDone || (await waitingOnAdvisory()), 20000, "B's lock to be granted or to wait");
      expect(bDone).toBe(true);
      await other;
      // A's own batches still wait for it.
      own = ingest.transaction((tx) => tx.lockProjects('shared', [a])).finally(() => (aDone = true));
      await waitFor(async () => aDone || (await waitingOnAdvisory()), 20000, "A's batch to wait");
      expect(aDone).toBe(false);
    } finally {
      release();
      await deletion;
      await own;
    }
  });

  it('a rebuild holds back only its own project: another project\'s batches commit meanwhile, its own wait and then fold', async () => {
    const a = await newProject();
    const b = await newProject();
    await generations([generation(a, 'v', 'r'), generation(b, 'w', 'r')]);
    await events([event(a, 'a1', 'like', 'v', 'u1', 1), event(b, 'b1', 'like', 'w', 'u1', 1)]);

    // Something else holds one of A's signal rows, so the rebuild of A stops inside its transaction (at the DELETE of
    // A's rows), holding whatever locks it took before.
    let releaseRow!: () => void;
    let rowHeld!: () => void;
    const held = new Promise<void>((resolve) => (rowHeld = resolve));
    const rowHolder = db.transaction(async (em) => {
      await em.query(`SELECT 1 FROM video_user_signals WHERE project_id = $1 FOR UPDATE`, [a]);
      rowHeld();
      await new Promise<void>((resolve) => (releaseRow = resolve));
    });
    await held;
    let rebuildSettled = false;
    const rebuild = rebuildProject(ingest, quantiles, CURRENT_POLICY, a).finally(() => (rebuildSettled = true));
    const waiting = async (event: string) => Number((await db.query(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = $1`, [event],
    ))[0].n);
    await waitFor(async () => (await waiting('transactionid')) > 0, 20000, 'the rebuild of A to wait for the held row');
    expect(rebuildSettled).toBe(false);

    // Project B: events and a generation commit while A's rebuild is open.
    let otherDone = false;
    const other = Promise.all([
      events([event(b, 'b2', 'play', 'w', 'u2', 2), event(b, 'b3', 'like', 'x', 'u2', 3)]),
      generations([generation(b, 'x', 'q')]),
    ]).finally(() => (otherDone = true));
    await waitFor(async () => otherDone, 20000, "project B's batches to commit during A's rebuild");
    await expect(other).resolves.toMatchObject([{ persisted: 2 }, { persisted: 1 }]);
    await expect(signal(b, 'x', 'u2')).resolves.toMatchObject({ rollup_attributed: true });

    // Project A: its batch waits for the rebuild (on the project lock), then folds on top of the rebuilt rows.
    let ownDone = false;
    const own = events([event(a, 'a2', 'like', 'v', 'u2', 2)]).finally(() => (ownDone = true));
    await waitFor(async () => (await waiting('advisory')) > 0, 20000, "A's batch to wait for A's rebuild");
    expect(ownDone).toBe(false);
    releaseRow();
    await rowHolder;
    await expect(rebuild).resolves.toMatchObject({ projectId: a, events: 1 });
    await expect(own).resolves.toMatchObject({ persisted: 1 });
    await expect(differenceFromRebuild(a)).resolves.toBe('');
    await expect(differenceFromRebuild(b)).resolves.toBe('');
  });

  it('locks a batch\'s existing signal rows by index lookups, never by scanning the table (its cost follows the batch, not the table)', async () => {
    const projectId = await newProject();
    await db.query(
      `INSERT INTO video_user_signals (project_id, video_id, user_hash, event_count, first_event_at, last_event_at)
       SELECT $1, 'v-' || (i % 500), 'h-' || i, 1, now(), now() FROM generate_series(1, 20000) AS i`,
      [projectId],
    );
    await db.query('ANALYZE video_user_signals');
    // A worker-sized batch: 2,000 keys, one in ten stored.
    const keys = Array.from({ length: 2000 }, (_, i) => ({ projectId, videoId: `v-${((i + 1) * 10) % 500}`, userHash: i % 10 === 0 ? `h-${(i + 1) * 10}` : `h-new-${i}` }));
    const { rows, scans } = await db.transaction(async (t) => {
      // The backend's not yet reported counts (they may include an earlier transaction's): the difference counts.
      const scanCounts = async () => (await t.query(`SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'video_user_signals'`))[0];
      const before = await scanCounts();
      const locked = await t.ingest.lockExistingSignals(keys);
      const after = await scanCounts();
      return { rows: locked, scans: { seq: Number(after.seq_scan) - Number(before.seq_scan), idx: Number(after.idx_scan) - Number(before.idx_scan) } };
    });
    expect(rows.map((r) => r.userHash).sort()).toEqual(keys.filter((_, i) => i % 10 === 0).map((k) => k.userHash).sort());
    expect(scans.seq).toBe(0);
    expect(scans.idx).toBeGreaterThan(0);
  });

  it('writes a batch\'s new signal rows with one index probe each (the insert finds the existing rows; only those are locked and refolded)', async () => {
    const projectId = await newProject();
    await events(Array.from({ length: 100 }, (_, i) => event(projectId, `old-${i}`, 'play', `v-${i % 10}`, `u-${i}`, 1)));
    // 500 keys, 100 of them stored: a like on an old row, a play on each new one.
    const batch = Array.from({ length: 500 }, (_, i) => i < 100
      ? event(projectId, `again-${i}`, 'like', `v-${i % 10}`, `u-${i}`, 2)
      : event(projectId, `new-${i}`, 'play', `v-${i % 10}`, `u-${i}`, 2));
    const probes = await db.transaction(async (t) => {
      // The backend's not yet reported counts (they may include an earlier transaction's): the difference counts.
      const indexScans = async () => Number((await t.query(
        `SELECT idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'video_user_signals'`))[0].idx_scan);
      const before = await indexScans();
      await pipeline.ingestEvents(t.ingest, batch);
      return (await indexScans()) - before;
    });
    // One probe per key for the insert and one per stored key for its lock (the upsert of those adds one each):
    // 500 + 2·100. Looking every key up before inserting took 500 more.
    expect(probes).toBeLessThanOrEqual(500 + 2 * 100 + 10);
    const [{ liked, rows }] = await db.query(
      `SELECT count(*) FILTER (WHERE liked)::int AS liked, count(*)::int AS rows FROM video_user_signals WHERE project_id = $1`, [projectId]);
    expect({ liked, rows }).toEqual({ liked: 100, rows: 500 });
    await expect(differenceFromRebuild(projectId)).resolves.toBe('');
  });

  /** Runs `work` in a transaction under `mode` and counts the rows of `table` it read (sequentially or by index). */
  async function rowsReadBy<T>(table: string, mode: 'force_custom_plan' | 'force_generic_plan', work: (tx: IngestTransaction) => Promise<T>): Promise<{ result: T; read: number }> {
    return db.transaction(async (t) => {
      await t.query(`SET LOCAL plan_cache_mode = ${mode}`);
      // The backend's not yet reported counts (they may include an earlier transaction's): the difference counts.
      const tuplesRead = async () => Number((await t.query(
        'SELECT seq_tup_read + idx_tup_fetch AS n FROM pg_stat_xact_user_tables WHERE relname = $1', [table]))[0].n);
      const before = await tuplesRead();
      const result = await work(t.ingest);
      return { result, read: (await tuplesRead()) - before };
    });
  }

  it('reads a batch\'s generations by one index lookup per video, whatever plan the server picks (never the project\'s other generations)', async () => {
    const projectId = await newProject();
    await db.query(
      `INSERT INTO generations (project_id, video_id, request_id, prompt, prompt_norm, model, model_version, features, created_at, received_at)
       SELECT $1, 'v-' || i, 'r-' || (i / 4), 'p', 'p', 'seedance', 'v1', '{0.5,1}', now(), now() FROM generate_series(1, 20000) AS i`,
      [projectId],
    );
    await db.query('ANALYZE generations');
    const videoIds = Array.from({ length: 300 }, (_, i) => `v-${i * 7 + 1}`).concat(['v-none']);
    // A custom plan with these statistics scans the table; a cached generic plan made before they existed scanned the
    // project's rows through another index. Both modes must read only the named rows.
    for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
      const { result: found, read } = await rowsReadBy('generations', mode, (tx) => tx.generationsOf(projectId, videoIds));
      expect(found.size).toBe(300);
      expect(found.get('v-8')).toEqual({ requestId: 'r-2', dims: { model: 'seedance', modelVersion: 'v1', category: '', segment: '' } });
      expect(read).toBeLessThanOrEqual(videoIds.length);
    }
  });

  it('finds the passed-over pairs of a batch\'s chooses, and of a batch\'s generations, by key lookups whatever the plan (never the day\'s other events)', async () => {
    const projectId = await newProject();
    const day = new Date(Date.UTC(2026, 10, 3, 0)).getTime();
    // One day's partition with 20,000 events of the project, 50 of them chooses among 4 candidates.
    await db.query(
      `INSERT INTO feedback_events (project_id, event_id, type, video_id, user_hash, occurred_at, received_at)
       SELECT $1, 'e-' || i, CASE WHEN i % 400 = 0 THEN 'choose' ELSE 'play' END, 'v-' || (i % 200), 'h-' || (i % 997),
              to_timestamp(($2::float8 + i * 1000) / 1000), now()
         FROM generate_series(1, 20000) AS i`,
      [projectId, day],
    );
    await db.query(
      `INSERT INTO generations (project_id, video_id, request_id, prompt, prompt_norm, model, model_version, features, created_at, received_at)
       SELECT $1, 'v-' || i, 'r-' || (i / 4), 'p', 'p', 'seedance', 'v1', '{0.5,1}', now(), now() FROM generate_series(0, 199) AS i`,
      [projectId],
    );
    await db.query('ANALYZE feedback_events');
    const chooses = Array.from({ length: 50 }, (_, j) => (j + 1) * 400).map((i) => ({ eventId: `e-${i}`, occurredAt: new Date(day + i * 1000).toISOString() }));
    const partitions = `SELECT coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0) AS n FROM pg_stat_xact_user_tables WHERE relname LIKE 'feedback_events%'`;
    for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
      const { result: pairs, read } = await db.transaction(async (t) => {
        await t.query(`SET LOCAL plan_cache_mode = ${mode}`);
        const before = Number((await t.query(partitions))[0].n);
        const result = await t.ingest.passedOverOfChooses(projectId, chooses);
        return { result, read: Number((await t.query(partitions))[0].n) - before };
      });
      // Each choose (of video v-k, request r-(k/4)) passes over the request's 3 other candidates.
      expect(pairs).toHaveLength(150);
      expect(pairs.filter((p) => p.eventId === 'e-400')).toHaveLength(3);
      expect(read).toBeLessThanOrEqual(chooses.length);
    }
    // A generations batch's lookup, by video: the chooses of the videos' requests, read through the index of chooses.
    for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
      const { result: byVideo, read } = await db.transaction(async (t) => {
        await t.query(`SET LOCAL plan_cache_mode = ${mode}`);
        const before = Number((await t.query(partitions))[0].n);
        const result = await t.ingest.passedOverOfVideos(projectId, ['v-1', 'v-5']);
        return { result, read: Number((await t.query(partitions))[0].n) - before };
      });
      // v-1 is a sibling of v-0 (request r-0), which all 50 chooses picked; v-5 (request r-1) has none.
      expect(byVideo.filter((p) => p.videoId === 'v-1')).toHaveLength(50);
      expect(byVideo).toHaveLength(50);
      expect(read).toBeLessThanOrEqual(chooses.length);
    }
  });

  it('checks a batch\'s users against the tombstones by one index lookup per user, whatever plan the server picks', async () => {
    const projectId = await newProject();
    await db.query(
      `INSERT INTO user_tombstones (project_id, user_hash, deleted_at) SELECT $1, 'h-gone-' || i, now() FROM generate_series(1, 20000) AS i`,
      [projectId],
    );
    await db.query('ANALYZE user_tombstones');
    const users = Array.from({ length: 1000 }, (_, i) => ({ projectId, userHash: i % 100 === 0 ? `h-gone-${i + 1}` : `h-live-${i}` }));
    for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
      const { result: closed, read } = await rowsReadBy('user_tombstones', mode, (tx) => tx.closedFor([projectId], users));
      expect([...closed.tombstones.keys()].sort()).toEqual(users.filter((_, i) => i % 100 === 0).map((u) => `${projectId}|${u.userHash}`).sort());
      expect(closed.deletedProjects.size).toBe(0);
      expect(read).toBeLessThanOrEqual(users.length);
    }
  });
});
