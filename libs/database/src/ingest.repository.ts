import { createHash } from 'node:crypto';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { rowsOf } from './sql';
import { float8Column, textColumn, timestamptzColumn, uuidColumn } from './binary-arrays';
import { OVERALL_TABLES } from './metrics.repository';
import { DimensionDeltas, applyDimensionDeltas } from './dimension-deltas';
import { FeedbackEventMessage, FoldableEvent, GenerationMessage, SignalRecord, instantMs, normalisePrompt } from '@flywheel/contracts';

export interface SignalKey {
  projectId: string;
  videoId: string;
  userHash: string;
}

export interface StoredSignal extends SignalKey {
  record: SignalRecord;
  /** What the row last contributed to the rollups (null: nothing yet). */
  rollup: RollupMark | null;
}

export interface RollupMark {
  satisfaction: number;
  policyId: string;
  hourMs: number;
  attributed: boolean;
}

/** The rollup dimensions of a video; all empty strings while its generation has not arrived. */
export interface VideoDims {
  model: string;
  modelVersion: string;
  category: string;
  segment: string;
}

export interface FoldRow extends FoldableEvent {
  videoId: string;
  userHash: string;
}

export const UNATTRIBUTED: VideoDims = { model: '', modelVersion: '', category: '', segment: '' };

export interface RollupDelta extends VideoDims {
  projectId: string;
  hourMs: number;
  policyId: string;
  /** Indexed like ROLLUP_COUNTERS of libs/satisfaction. */
  values: Float64Array;
}

/** A change to one video's aggregate (video_aggregates), under the video's rollup dimensions. */
export interface VideoClusterDelta extends VideoDims {
  projectId: string;
  videoId: string;
  values: Float64Array;
  /** Unique per (project, video, model, version, category, segment): rows are written in its order. */
  key: string;
}

/** A change to one user's aggregate for one (model, model version) (user_aggregates). */
export interface UserClusterDelta {
  projectId: string;
  userHash: string;
  model: string;
  modelVersion: string;
  values: Float64Array;
  /** Unique per (project, user, model, version): rows are written in its order. */
  key: string;
}

/**
 * Everything one batch changes in the derived sums, from the same (new − old) contributions of its signal rows:
 * the hourly (and daily) rollups, the per-video and per-user aggregates (and through them the cluster moments).
 */
export interface DerivedDeltas {
  rollups: RollupDelta[];
  videos: VideoClusterDelta[];
  users: UserClusterDelta[];
  /** Per rating dimension; absent or empty when the batch's rows touch no dimension rating (then nothing is written). */
  dimensions?: DimensionDeltas;
}

/** Which counters pair up in cluster_moments (libs/satisfaction MOMENT_COLUMNS), passed in by the caller. */
export interface MomentSpec {
  name: string;
  a: string;
  b: string;
}

/**
 * An event time as the fold sees it (Date.parse: millisecond precision, further digits dropped). PostgreSQL would
 * round `…59.9999996Z` up to the next second — another hour for the rollup — so what is stored is what was folded,
 * and a rebuild from the stored events folds the same times. The api's and clients' usual form passes unchanged.
 */
export function toMillisecond(timestamp: string): string {
  return timestamp.length === 24 && timestamp[23] === 'Z' ? timestamp : new Date(Date.parse(timestamp)).toISOString();
}

/** Bulk statements of the ingest path; every method runs inside the caller's transaction. */
export class IngestTransaction {
  constructor(private readonly em: EntityManager) {}

  /**
   * A statement of the per-batch path, as a named prepared statement of the transaction's connection: the server
   * parses and plans each text once per connection instead of once per batch (for the large upserts of the rollups
   * and aggregates, more CPU than executing them). Only fixed texts come here (a bounded set, see preparedName), and
   * none selects `*`: a prepared `*` fails once a column is added. Errors are TypeORM's QueryFailedError, as from
   * em.query. Returns the rows (no UPDATE/DELETE comes here). Outside a transaction, a plain em.query.
   */
  private async run<T = any>(sql: string, params: unknown[]): Promise<T[]> {
    const connection = (this.em.queryRunner as { databaseConnection?: PgConnection } | undefined)?.databaseConnection;
    const name = connection ? preparedName(sql) : undefined;
    if (!connection || !name) return this.em.query(sql, params);
    try {
      return (await connection.query({ name, text: sql, values: params })).rows as T[];
    } catch (error) {
      throw new QueryFailedError(sql, params, error as Error);
    }
  }

  /**
   * Inserts the events idempotently in one statement; returns those that were new (an event given twice in the
   * batch, once). The key is (project, eventId, occurredAt) — the table is partitioned by occurred_at (see the
   * migration PartitionedFeedbackEvents) — and a retry carries the same occurredAt. No conflict target, so any
   * unique key counts (the history partition also keeps (project, eventId)).
   */
  async insertEvents(events: FeedbackEventMessage[]): Promise<FeedbackEventMessage[]> {
    if (events.length === 0) return [];
    // One JSON document a batch, with short keys and absent values left out, as for signals (see SIGNAL_INSERT).
    const document = JSON.stringify(events.map((e) => ({
      p: e.projectId, i: e.eventId, t: e.type, v: e.videoId, u: e.userHash, o: instantMs(e.occurredAt), r: instantMs(e.receivedAt),
      s: e.sessionId ?? undefined, q: e.requestId ?? undefined, w: e.watchMs ?? undefined, d: e.durationMs ?? undefined,
      g: e.rating === undefined || e.rating === null ? undefined : Math.round(e.rating), m: e.dimension ?? undefined,
    })));
    // An eventId names one event of the batch (the worker's batches: it drops repeats before): what was stored is
    // told by (project, eventId). Otherwise by the whole key, the time coming back as epoch milliseconds.
    const times = new Map<string, string>();
    let byTime = false;
    for (const e of events) {
      const id = `${e.projectId}|${e.eventId}`;
      const seen = times.get(id);
      if (seen === undefined) times.set(id, e.occurredAt);
      else if (seen !== e.occurredAt) byTime = true;
    }
    if (!byTime) {
      const rows: { project_id: string; event_id: string }[] = await this.run(EVENTS_INSERT, [document]);
      const fresh = new Set(rows.map((r) => `${r.project_id}|${r.event_id}`));
      return events.filter((e) => fresh.delete(`${e.projectId}|${e.eventId}`));
    }
    const rows: { project_id: string; event_id: string; occurred_ms: number }[] = await this.run(EVENTS_INSERT_TIMED, [document]);
    const fresh = new Set(rows.map((r) => `${r.project_id}|${r.event_id}|${r.occurred_ms}`));
    return events.filter((e) => fresh.delete(`${e.projectId}|${e.eventId}|${instantMs(e.occurredAt)}`));
  }

  /**
   * Serialises derived-state work on these videos and generation requests with other ingest transactions (see
   * DERIVED_LOCKS): events take them shared, generations exclusive. Call it before reading what the lock guards;
   * each transaction takes every video lock before any request lock, each set in key order, so waits never cycle.
   */
  async lockDerived(mode: 'shared' | 'exclusive', kind: 'video' | 'request', keys: { projectId: string; id: string }[]): Promise<void> {
    if (keys.length === 0) return;
    const stripes = [...new Set(keys.map((k) => lockStripe(k.projectId, k.id)))].sort((a, b) => a - b);
    // unnest yields the array in order, and the aggregate takes the locks one row at a time in that order.
    await this.run(LOCK_KEYS[mode], [DERIVED_LOCKS[kind], stripes]);
  }

  /** The generation request and rollup dimensions of the videos whose generation is stored. */
  async generationsOf(projectId: string, videoIds: string[]): Promise<Map<string, { requestId: string; dims: VideoDims }>> {
    if (videoIds.length === 0) return new Map();
    const rows: ({ video_id: string; request_id: string } & VideoDims)[] = await this.run(
      GENERATIONS_OF,
      [projectId, videoIds],
    );
    return new Map(rows.map(({ video_id, request_id, ...dims }) => [video_id, { requestId: request_id, dims }]));
  }

  /**
   * The synthetic `passed_over` events (PASSED_OVER) that these `choose` events give, with what is stored now. Each
   * choose is named by its key (eventId, occurredAt): the time prunes the lookup to the partitions that can hold it.
   */
  passedOverOfChooses(projectId: string, chooses: { eventId: string; occurredAt: string }[]): Promise<PassedOverRow[]> {
    if (chooses.length === 0) return Promise.resolve([]);
    const times = chooses.map((c) => toMillisecond(c.occurredAt));
    return this.passedOver(PASSED_OVER_OF_CHOOSES, [projectId, chooses.map((c) => c.eventId), times]);
  }

  /** The `passed_over` events (PASSED_OVER) in which one of these videos is the chosen one or the one passed over. */
  passedOverOfVideos(projectId: string, videoIds: string[]): Promise<PassedOverRow[]> {
    if (videoIds.length === 0) return Promise.resolve([]);
    return this.passedOver(PASSED_OVER_OF_VIDEOS, [projectId, videoIds]);
  }

  private async passedOver(sql: string, params: unknown[]): Promise<PassedOverRow[]> {
    const rows: { video_id: string; user_hash: string; event_id: string; occurred_at: Date }[] = await this.run(sql, params);
    return rows.map((r) => ({ videoId: r.video_id, userHash: r.user_hash, eventId: r.event_id, occurredAtMs: new Date(r.occurred_at).getTime() }));
  }

  /**
   * Reads and row-locks the signal rows that exist among `keys` (sorted, so concurrent batches lock in one order):
   * the keys insertNewSignals did not insert, and keys touched without events.
   */
  async lockExistingSignals(keys: SignalKey[]): Promise<StoredSignal[]> {
    if (keys.length === 0) return [];
    const sorted = [...keys].sort((a, b) => compareKeys(a, b));
    const rows: Record<string, unknown>[] = await this.run(
      SIGNALS_LOCK,
      [sorted.map((k) => k.projectId), sorted.map((k) => k.videoId), sorted.map((k) => k.userHash)],
    );
    return rows.map(rowToSignal);
  }

  /**
   * Inserts the rows folded from empty whose keys have none, in their final state (one write instead of
   * insert-then-update); returns the keys inserted. A key whose row exists — stored before, or inserted by another
   * batch meanwhile (the insert waits for that transaction, so nothing is lost between the two) — is skipped: the
   * caller locks it with lockExistingSignals, refolds and updates it.
   */
  async insertNewSignals(signals: StoredSignal[]): Promise<Set<string>> {
    if (signals.length === 0) return new Set();
    const sorted = [...signals].sort((a, b) => compareKeys(a, b));
    const rows: { project_id: string; video_id: string; user_hash: string }[] = await this.run(
      SIGNALS_INSERT_NEW,
      signalParams(sorted),
    );
    return new Set(rows.map((r) => `${r.project_id}|${r.video_id}|${r.user_hash}`));
  }

  async upsertSignals(signals: StoredSignal[]): Promise<void> {
    if (signals.length === 0) return;
    await this.run(
      SIGNALS_UPSERT,
      signalParams(signals),
    );
  }

  /** Keys of the signal rows of these videos that were rolled up before their generation arrived. */
  async unattributedKeys(projectId: string, videoIds: string[]): Promise<SignalKey[]> {
    if (videoIds.length === 0) return [];
    const rows: { video_id: string; user_hash: string }[] = await this.run(
      UNATTRIBUTED_KEYS,
      [projectId, videoIds],
    );
    return rows.map((r) => ({ projectId, videoId: r.video_id, userHash: r.user_hash }));
  }

  /**
   * Adds the deltas to the per-video and per-user aggregates (applyClusterDeltas, which also works out what that
   * changes in the cluster moments), then to their hourly rollups, the same deltas summed per UTC day to the daily
   * rollups, and the moment changes to cluster_moments. The one writer of these tables, in the caller's transaction,
   * so they can never disagree. Rows are upserted in key order, tables always in this order (concurrent batches lock
   * them in one order). The shared rows come last: a rollup or moment row (per hour or per model version) is one
   * that every concurrent batch writes, and its row lock is held until commit, so the others wait for it only for the
   * end of the transaction, not for the aggregate upserts as well (the aggregates are per video and per user: few
   * batches touch the same one). A feature that takes contributions out (a user's deletion) goes through here and
   * reaches them all.
   */
  async applyRollupDeltas(derived: DerivedDeltas, counters: readonly string[], moments: readonly MomentSpec[]): Promise<void> {
    const videoMoments = await this.applyClusterDeltas('video', derived.videos, counters, aggregateCounters('video', counters, moments), moments);
    const userMoments = await this.applyClusterDeltas('user', derived.users, counters, aggregateCounters('user', counters, moments), moments);
    await this.applyHourlyAndDaily(derived.rollups, counters);
    await this.applyMomentDeltas([...videoMoments, ...userMoments], moments);
  }

  /** The per-dimension sums (dimension-deltas.ts): one statement, called only when there are deltas. */
  applyDimensionDeltas(deltas: DimensionDeltas, counters: readonly string[], moments: readonly MomentSpec[]): Promise<void> {
    return applyDimensionDeltas((sql, params) => this.run(sql, params), deltas, counters, moments);
  }

  private async applyHourlyAndDaily(deltas: RollupDelta[], counters: readonly string[]): Promise<void> {
    if (deltas.length === 0) return;
    const sorted = sortedByKey(deltas, rollupKey);
    const params: unknown[] = [
      uuidColumn(sorted, (d) => d.projectId), timestamptzColumn(sorted, (d) => d.hourMs), textColumn(sorted, (d) => d.model),
      textColumn(sorted, (d) => d.modelVersion), textColumn(sorted, (d) => d.category), textColumn(sorted, (d) => d.segment),
      textColumn(sorted, (d) => d.policyId),
      ...counters.map((_, i) => float8Column(sorted, (d) => d.values[i])),
    ];
    const base = 7;
    const texts = rollupStatements(counters);
    await this.run(
      texts.hourly,
      params,
    );
    const daily = [...params.slice(0, 6), ...params.slice(base)];
    await this.run(
      texts.daily,
      daily,
    );
  }

  /**
   * Adds per-cluster deltas to video_aggregates or user_aggregates and, in the same statement, works out the
   * resulting change of the cluster moments: a cluster whose sums went from S − δ to S (S read back with RETURNING,
   * under the row's lock) changes Σ S_a·S_b by δ_a·S_b + S_a·δ_b − δ_a·δ_b, and the cluster count by [S_viewers > 0]
   * − [S_viewers − δ_viewers > 0]. Returns those changes summed per moment row (applyMomentDeltas writes them): video
   * moments per (model, model version, category, segment) — a video never spans those — and user moments per (model,
   * model version) (category and segment '': a user spans them).
   */
  private async applyClusterDeltas(
    unit: 'video' | 'user', deltas: (VideoClusterDelta | UserClusterDelta)[], all: readonly string[], counters: readonly string[],
    moments: readonly MomentSpec[],
  ): Promise<Record<string, unknown>[]> {
    // The deltas are indexed like `all`; the table keeps `counters` of them. A delta that changes none is not written.
    const indexes = counters.map((c) => all.indexOf(c));
    const live = deltas.filter((d) => indexes.some((i) => d.values[i] !== 0));
    if (live.length === 0) return [];
    const video = unit === 'video';
    const sorted = sortedByKey(live, (d) => d.key);
    const keyValues: Buffer[] = video
      ? [uuidColumn(sorted, (d) => d.projectId), textColumn(sorted, (d) => (d as VideoClusterDelta).videoId), textColumn(sorted, (d) => d.model),
        textColumn(sorted, (d) => d.modelVersion), textColumn(sorted, (d) => (d as VideoClusterDelta).category),
        textColumn(sorted, (d) => (d as VideoClusterDelta).segment)]
      : [uuidColumn(sorted, (d) => d.projectId), textColumn(sorted, (d) => (d as UserClusterDelta).userHash), textColumn(sorted, (d) => d.model),
        textColumn(sorted, (d) => d.modelVersion)];
    const params: unknown[] = [...keyValues, ...indexes.map((i) => float8Column(sorted, (d) => d.values[i]))];
    return this.run(clusterStatement(unit, counters, moments), params);
  }

  /** Adds the moment changes of applyClusterDeltas to cluster_moments, rows in key order. */
  private async applyMomentDeltas(rows: Record<string, unknown>[], moments: readonly MomentSpec[]): Promise<void> {
    if (rows.length === 0) return;
    const sorted = sortedByKey(rows, (r) => `${r.project_id}|${r.unit}|${r.model}|${r.model_version}|${r.category}|${r.segment}`);
    const text = (column: string) => textColumn(sorted, (r) => r[column] as string);
    const float = (column: string) => float8Column(sorted, (r) => Number(r[column]));
    await this.run(momentStatement(moments), [
      uuidColumn(sorted, (r) => r.project_id as string), text('unit'), text('model'), text('model_version'), text('category'),
      text('segment'), float('clusters'), ...moments.map((m) => float(m.name)),
    ]);
  }

  // ---- deletion (a user's data, a project) ----

  /**
   * The project side of DELETION_LOCK, taken before anything else in the transaction: ingest batches take their
   * projects' locks shared, a deletion takes its project's exclusively (keys in order: waits never cycle). Then read
   * what closeFor reads.
   */
  async lockProjects(mode: 'shared' | 'exclusive', projectIds: string[]): Promise<void> {
    if (projectIds.length === 0) return;
    const keys = [...new Set(projectIds.map(projectLockKey))].sort((a, b) => a - b);
    await this.run(LOCK_KEYS[mode], [DELETION_LOCK, keys]);
  }

  /**
   * What a batch may no longer store, read after lockProjects (a statement of its own, so it sees a deletion that
   * committed while the lock waited): the deleted projects among `projectIds`, and the tombstone time (ms) of each
   * deleted user among `users` (keyed project|userHash). One index probe per key (lateral, as GENERATIONS_OF: a join
   * would hash the whole tombstone table once it is large); both are empty almost always.
   */
  async closedFor(projectIds: string[], users: { projectId: string; userHash: string }[]): Promise<{ deletedProjects: Set<string>; tombstones: Map<string, number> }> {
    const deletedProjects = new Set<string>();
    const tombstones = new Map<string, number>();
    if (projectIds.length === 0) return { deletedProjects, tombstones };
    const rows: { project_id: string; user_hash: string | null; deleted_at: Date | null }[] = await this.run(
      `SELECT id AS project_id, NULL AS user_hash, NULL::timestamptz AS deleted_at
         FROM projects WHERE id = ANY($1::uuid[]) AND deleted_at IS NOT NULL
       UNION ALL
       SELECT t.project_id, t.user_hash, t.deleted_at
         FROM unnest($2::uuid[], $3::text[]) AS k(project_id, user_hash)
        CROSS JOIN LATERAL (SELECT project_id, user_hash, deleted_at FROM user_tombstones
                             WHERE project_id = k.project_id AND user_hash = k.user_hash OFFSET 0) AS t`,
      [projectIds, users.map((u) => u.projectId), users.map((u) => u.userHash)],
    );
    for (const r of rows) {
      if (r.user_hash === null) deletedProjects.add(r.project_id);
      else tombstones.set(`${r.project_id}|${r.user_hash}`, new Date(r.deleted_at!).getTime());
    }
    return { deletedProjects, tombstones };
  }

  /** Closes the user (or moves their tombstone to now: a second deletion covers what arrived since); returns its time. */
  async tombstone(projectId: string, userHash: string): Promise<Date> {
    const [row] = await this.em.query(
      `INSERT INTO user_tombstones (project_id, user_hash, deleted_at) VALUES ($1, $2, now())
       ON CONFLICT (project_id, user_hash) DO UPDATE SET deleted_at = greatest(user_tombstones.deleted_at, excluded.deleted_at)
       RETURNING deleted_at`,
      [projectId, userHash],
    );
    return new Date(row.deleted_at);
  }

  /**
   * Deletes the user's signal rows and returns them as they were (with what each contributed to the rollups). The
   * project's rows are scanned: there is no index by user. One on (project_id, user_hash) was measured (bench:delete
   * and an insert-only micro-benchmark, README): +15–28% WAL per event stored by the signal-row inserts alone, for
   * the smaller of the deletion's two scans (deleteUserEvents scans the project's events, which have no index by user
   * or video either): at 1M events 0.1–0.2 s of a 1.2–2.8 s deletion.
   */
  async deleteUserSignals(projectId: string, userHash: string): Promise<StoredSignal[]> {
    const rows = rowsOf(await this.em.query(
      `DELETE FROM video_user_signals WHERE project_id = $1 AND user_hash = $2 RETURNING *`, [projectId, userHash],
    ));
    return rows.map(rowToSignal);
  }

  /**
   * Deletes the user's events on these videos (every stored event has its (video, user) signal row, so the videos of
   * the user's rows are all of them); returns how many. feedback_events has no index by video (dropped as unused by
   * 1764000500000) nor by user (an index there would add ~60% to the WAL of every event inserted), so the project's
   * events are scanned — only in the day partitions that `occurred` spans, when given: the user's rows hold the first
   * and last time of every event they folded, so no event of theirs lies outside. Partitions pruned when the statement
   * is planned are neither read nor locked.
   */
  async deleteUserEvents(projectId: string, userHash: string, videoIds: string[], occurred: { fromMs: number; toMs: number } | null): Promise<number> {
    if (videoIds.length === 0) return 0;
    const params: unknown[] = [projectId, videoIds, userHash];
    let within = '';
    if (occurred) {
      // A millisecond of margin either side: the rows keep milliseconds, the column microseconds.
      params.push(new Date(occurred.fromMs - 1).toISOString(), new Date(occurred.toMs + 1).toISOString());
      within = ' AND occurred_at >= $4::timestamptz AND occurred_at <= $5::timestamptz';
    }
    const rows = await this.em.query(
      `WITH gone AS (DELETE FROM feedback_events WHERE project_id = $1 AND video_id = ANY($2::text[]) AND user_hash = $3${within} RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      params,
    );
    return rows[0].n;
  }

  /** Removes the user's per-user aggregate rows (after their deltas took them to zero). */
  async deleteUserAggregates(projectId: string, userHash: string): Promise<void> {
    await this.em.query(`DELETE FROM user_aggregates WHERE project_id = $1 AND user_hash = $2`, [projectId, userHash]);
    await this.em.query(`DELETE FROM dimension_user_aggregates WHERE project_id = $1 AND user_hash = $2`, [projectId, userHash]);
  }

  /**
   * Preference sets of the project after a deletion. A set that left the service (exported, or with a publication)
   * cannot be recalled: it is marked as containing the deletion's data and returned in `left`. Every other set not
   * failed is queued again, its rows dropped, so the trainer rebuilds it from the remaining data: pairs compare
   * per-video satisfaction aggregated over users and shrunk toward the project's mean, so any set may hold some of the
   * user's contribution, not only the pairs of videos they reacted to. A build in progress loses its claim.
   */
  async withdrawFromPreferenceSets(projectId: string, deletionId: string): Promise<{ rebuilt: string[]; left: LeftSet[] }> {
    const left = rowsOf<LeftSet>(await this.em.query(
      `UPDATE preference_sets s
          SET containing_deletions = CASE WHEN $2::uuid = ANY(containing_deletions) THEN containing_deletions
                                          ELSE array_append(containing_deletions, $2::uuid) END
        WHERE project_id = $1 AND status = 'ready'
          AND (exported_at IS NOT NULL OR EXISTS (SELECT 1 FROM preference_publications p WHERE p.set_id = s.id))
        RETURNING id AS "setId", exported_at AS "exportedAt",
                  (SELECT max(published_at) FROM preference_publications p WHERE p.set_id = s.id) AS "publishedAt"`,
      [projectId, deletionId],
    ));
    const rebuilt = rowsOf<{ id: string }>(await this.em.query(
      `UPDATE preference_sets s SET status = 'queued', manifest = NULL, content_sha256 = NULL, heartbeat_at = NULL
        WHERE project_id = $1 AND status IN ('queued', 'building', 'ready') AND exported_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM preference_publications p WHERE p.set_id = s.id)
        RETURNING id`,
      [projectId],
    ));
    const ids = rebuilt.map((r) => r.id);
    if (ids.length) {
      await this.em.query(`DELETE FROM preference_pairs WHERE set_id = ANY($1::uuid[])`, [ids]);
      await this.em.query(`DELETE FROM preference_rankings WHERE set_id = ANY($1::uuid[])`, [ids]);
    }
    return { rebuilt: ids.sort(), left: left.sort((a, b) => a.setId.localeCompare(b.setId)) };
  }

  // ---- rebuild (flywheel metrics rebuild) ----

  /**
   * Holds back the ingest-worker's writes (events and generations) of this one project until this transaction ends,
   * after its in-flight batches (the project's stripe of DELETION_LOCK, exclusive, as a deletion takes it); other
   * projects' batches go on.
   */
  async lockForRebuild(projectId: string): Promise<void> {
    await this.lockProjects('exclusive', [projectId]);
  }

  /**
   * The time before which the partition maintenance removed some of the project's raw events (null: none removed).
   * Read FOR SHARE: retention updates this row in the transaction that removes the events, so it cannot remove any
   * while a rebuild that read it is open (it waits, or the rebuild waits for it and then sees the new value).
   */
  async eventsPrunedBefore(projectId: string): Promise<Date | null> {
    const rows: { before: Date | null }[] = await this.em.query(`SELECT events_pruned_before AS before FROM projects WHERE id = $1 FOR SHARE`, [projectId]);
    return rows[0]?.before ?? null;
  }

  async clearDerived(projectId: string): Promise<void> {
    await this.em.query(`DELETE FROM video_user_signals WHERE project_id = $1`, [projectId]);
    await this.em.query(`DELETE FROM satisfaction_rollups WHERE project_id = $1`, [projectId]);
    await this.em.query(`DELETE FROM satisfaction_rollups_daily WHERE project_id = $1`, [projectId]);
    await this.em.query(`DELETE FROM video_aggregates WHERE project_id = $1`, [projectId]);
    await this.em.query(`DELETE FROM user_aggregates WHERE project_id = $1`, [projectId]);
    await this.em.query(`DELETE FROM cluster_moments WHERE project_id = $1`, [projectId]);
    for (const table of ['dimension_rollups', 'dimension_rollups_daily', 'dimension_video_aggregates', 'dimension_user_aggregates', 'dimension_cluster_moments']) {
      await this.em.query(`DELETE FROM ${table} WHERE project_id = $1`, [projectId]);
    }
  }

  /**
   * Opens a cursor over a project's events plus the synthetic `passed_over` events (PASSED_OVER), ordered by
   * (video, user) so that each signal row's events arrive together.
   */
  async openFoldCursor(projectId: string): Promise<void> {
    const project = `'${projectId.replace(/[^0-9a-f-]/gi, '')}'::uuid`;
    await this.em.query(
      `DECLARE fold_cursor NO SCROLL CURSOR FOR
       SELECT video_id, user_hash, event_id, type, occurred_at, watch_ms, duration_ms, rating, dimension
         FROM feedback_events WHERE project_id = ${project}
       UNION ALL
       SELECT video_id, user_hash, event_id, 'passed_over', occurred_at, NULL, NULL, NULL, NULL
         FROM (${PASSED_OVER(`c.project_id = ${project}`)}) AS p
       ORDER BY video_id, user_hash`,
    );
  }

  async fetchFoldCursor(rows: number): Promise<FoldRow[]> {
    const result: Record<string, unknown>[] = await this.em.query(`FETCH ${Math.floor(rows)} FROM fold_cursor`);
    return result.map((r) => ({
      videoId: r.video_id as string, userHash: r.user_hash as string, eventId: r.event_id as string,
      type: r.type as FoldRow['type'], occurredAtMs: new Date(r.occurred_at as string).getTime(),
      watchMs: r.watch_ms === null ? null : Number(r.watch_ms), durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
      rating: r.rating === null ? null : Number(r.rating), dimension: r.dimension as string | null,
    }));
  }

  async allVideoDims(projectId: string): Promise<Map<string, VideoDims>> {
    const rows: ({ video_id: string } & VideoDims)[] = await this.em.query(
      `SELECT video_id, model, model_version AS "modelVersion", coalesce(category, '') AS category,
              coalesce(segment, '') AS segment
         FROM generations WHERE project_id = $1`,
      [projectId],
    );
    return new Map(rows.map(({ video_id, ...dims }) => [video_id, dims]));
  }

  /** Registers generations idempotently (the first registration of a videoId wins); returns the new ones. */
  async insertGenerations(generations: GenerationMessage[]): Promise<{ projectId: string; videoId: string }[]> {
    if (generations.length === 0) return [];
    const col = <T>(pick: (g: GenerationMessage) => T) => generations.map(pick);
    const rows = await this.run(
      `INSERT INTO generations (project_id, video_id, request_id, prompt, prompt_norm, model, model_version, category,
                                segment, duration_ms, uri, features, created_at, received_at, fps, num_frames)
       SELECT u.project_id, u.video_id, u.request_id, u.prompt, u.prompt_norm, u.model, u.model_version, u.category,
              u.segment, u.duration_ms, u.uri, u.features::real[], u.created_at, u.received_at, u.fps, u.num_frames
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::float8[], $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[],
                     $15::real[], $16::integer[])
           AS u(project_id, video_id, request_id, prompt, prompt_norm, model, model_version, category, segment,
                duration_ms, uri, features, created_at, received_at, fps, num_frames)
       ON CONFLICT (project_id, video_id) DO NOTHING
       RETURNING project_id, video_id`,
      [
        col((g) => g.projectId), col((g) => g.videoId), col((g) => g.requestId), col((g) => g.prompt),
        col((g) => normalisePrompt(g.prompt)), col((g) => g.model), col((g) => g.modelVersion),
        col((g) => g.category ?? null), col((g) => g.segment ?? null), col((g) => g.durationMs ?? null),
        col((g) => g.uri ?? null), col((g) => float32Array(g.features)), col((g) => g.createdAt),
        col((g) => g.receivedAt), col((g) => g.fps ?? null), col((g) => g.numFrames ?? null),
      ],
    );
    return rows.map((r: { project_id: string; video_id: string }) => ({ projectId: r.project_id, videoId: r.video_id }));
  }
}

/** A preference set that already left the service (exported or published) when a deletion ran. */
export interface LeftSet {
  setId: string;
  exportedAt: Date | null;
  publishedAt: Date | null;
}

/** A synthetic `passed_over` event of signal row (videoId, userHash): the `choose` it comes from. */
export interface PassedOverRow {
  videoId: string;
  userHash: string;
  eventId: string;
  occurredAtMs: number;
}

/**
 * "Passed over", the one rule, read by the ingest path and by the rebuild alike: user u passed over video s when u
 * chose (a `choose` event) another video c of the same generation request, both generations being stored. Each
 * (choose, s) gives one synthetic `passed_over` event of row (s, u), with the choose's id and time. It is a function
 * of stored rows only, so it does not matter which of the choose and the two generations was stored last: the
 * transaction that stores the last of them finds the pair here (see DERIVED_LOCKS for transactions that overlap).
 */
function PASSED_OVER(where: string, chooses = 'feedback_events c'): string {
  return `SELECT s.video_id, c.user_hash, c.event_id, c.occurred_at
            FROM ${chooses}
            JOIN generations g ON g.project_id = c.project_id AND g.video_id = c.video_id
            JOIN generations s ON s.project_id = g.project_id AND s.request_id = g.request_id AND s.video_id <> g.video_id
           WHERE c.type = 'choose' AND ${where}`;
}

/**
 * Advisory locks (class id, then a stripe of the key) that make derived state independent of how an events batch
 * and a generations batch overlap. Under READ COMMITTED two transactions each miss what the other has not committed
 * yet: an events batch that finds no generation for video v writes its rows unattributed, and a generations batch
 * that stores v looks for unattributed rows of v; if they overlap, both miss and the rows stay under model ''. The
 * same holds for a `choose` and a sibling's generation. So:
 * - a generations batch takes `video` and `request` locks exclusively for what it stores, before reading;
 * - an events batch takes, shared, the `video` lock of each video it found no generation for, and then reads again;
 *   and the `request` lock of each request its chooses belong to, before reading the siblings.
 * Of two overlapping transactions that need each other's rows, the one that gets the lock second therefore reads
 * after the other has committed, and completes the work. Events batches never wait for each other (shared), and a
 * video whose generation is already stored needs no lock at all (the common case, and the benchmark's).
 * Keys are striped (DERIVED_LOCK_STRIPES per class), so a batch holds a bounded number of locks; two keys in one
 * stripe only wait for each other.
 */
const DERIVED_LOCKS = { video: 0x66770001, request: 0x66770002 } as const;

/**
 * A deletion against in-flight ingest: every ingest transaction takes its projects' locks of this class shared,
 * first; a deletion takes its project's exclusively for its whole transaction. So the deletion waits until the
 * batches already running have committed (it then deletes what they stored), and the batches after it read the
 * tombstone or the project's deletion (closedFor) only once it committed. A rebuild of one project (lockForRebuild)
 * takes the same lock exclusively, so it holds back only that project's batches. One lock per project, keyed by
 * projectLockKey (not striped: a batch names few projects, so the lock table stays small).
 */
const DELETION_LOCK = 0x66770003;
const DERIVED_LOCK_STRIPES = 256;

/**
 * The key of a project's DELETION_LOCK: the 32 bits of FNV-1a over its id, as a signed int4 for the two-key form
 * pg_advisory_xact_lock(DELETION_LOCK, key). Two projects share a lock with probability 2^-32 (with 256 stripes it
 * was 1/256, so one project's deletion or rebuild held back another's ingest).
 */
export function projectLockKey(projectId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < projectId.length; i++) h = Math.imul(h ^ projectId.charCodeAt(i), 0x01000193);
  return h | 0;
}

export function lockStripe(projectId: string, id: string): number {
  // FNV-1a over the UTF-16 code units: cheap, and spreads similar ids.
  let h = 0x811c9dc5;
  const key = `${projectId}:${id}`;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % DERIVED_LOCK_STRIPES;
}

/**
 * A `real[]` literal of the features' float32 roundings: what the column keeps anyway, and a value PostgreSQL
 * takes whatever the double was (1e-50 rounds to 0 instead of failing the batch as an underflow; field-rules.ts).
 */
function float32Array(features: number[]): string {
  let out = '{';
  for (let i = 0; i < features.length; i++) out += (i ? ',' : '') + Math.fround(features[i]);
  return `${out}}`;
}

/**
 * A timestamptz from Unix milliseconds, as the batch documents carry times (a number is shorter to write and much
 * cheaper for the server to read than an ISO string). Exact: a whole number of milliseconds / 1000 is within half a
 * microsecond of the true seconds, and to_timestamp rounds to the microsecond.
 */
const FROM_MS = (column: string) => `to_timestamp(${column} / 1000.0)`;

/**
 * The multi-row insert of signal rows that upsertSignals and insertNewSignals complete with their ON CONFLICT.
 * Signal rows go to PostgreSQL as one JSON document a batch (json_to_recordset): JSON.stringify runs natively,
 * where 31 unnest arrays cost a JS pass each plus pg's per-element escaping of every string (the jsonb columns
 * worst: each element is itself JSON full of quotes). The document's keys are short (the record's columns are
 * matched to the table's by position, so their names only have to agree with signalParams), booleans are 1 or 0,
 * and an absent value is left out (a missing key reads as null): a batch's document is less than half as long,
 * which is less for JavaScript to write, for the socket to carry and for the server to parse.
 */
const SIGNAL_INSERT = `INSERT INTO video_user_signals AS s (project_id, video_id, user_hash, impressed, played, completed,
         max_watch_ratio, max_watch_ms, duration_ms, liked, favorited, shared, downloaded, exported, commented,
         rating, dimension_ratings, chosen, passed_over, regenerated, discarded, disliked, reported, clock,
         event_count, first_event_at, last_event_at, satisfaction, policy_id, rollup_hour, rollup_attributed,
         updated_at)
  SELECT u.p, u.v, u.u, u.im, u.pl, u.co, u.wr, u.wm, u.du, u.li, u.fa, u.sh, u.dn, u.ex, u.cm, u.ra, u.dr, u.ch, u.po,
         u.rg, u.dc, u.dl, u.rp, u.ck, u.n, ${FROM_MS('u.f')}, ${FROM_MS('u.l')}, u.sa, u.pi, ${FROM_MS('u.h')}, u.at, now()
    FROM json_to_recordset($1::json) AS u(p uuid, v text, u text,
         im bool, pl bool, co bool, wr real, wm float8, du float8,
         li bool, fa bool, sh bool, dn bool, ex bool, cm bool, ra int2,
         dr jsonb, ch bool, po bool, rg bool, dc bool, dl bool,
         rp bool, ck jsonb, n int4, f float8, l float8,
         sa real, pi text, h float8, at bool)`;

function signalParams(signals: StoredSignal[]): unknown[] {
  const b = (flag: boolean) => (flag ? 1 : 0);
  return [JSON.stringify(signals.map((x) => {
    const r = x.record;
    return {
      p: x.projectId, v: x.videoId, u: x.userHash, im: b(r.impressed), pl: b(r.played), co: b(r.completed),
      // real: its float32 rounding (a ratio like 1e-300 would underflow and fail the batch on every retry).
      wr: r.maxWatchRatio === null ? undefined : Math.fround(r.maxWatchRatio),
      wm: r.maxWatchMs ?? undefined, du: r.durationMs ?? undefined,
      li: b(r.liked), fa: b(r.favorited), sh: b(r.shared), dn: b(r.downloaded), ex: b(r.exported), cm: b(r.commented),
      ra: r.rating ?? undefined, dr: r.dimensionRatings, ch: b(r.chosen), po: b(r.passedOver), rg: b(r.regenerated),
      dc: b(r.discarded), dl: b(r.disliked), rp: b(r.reported), ck: r.clock, n: r.eventCount, f: r.firstEventAt ?? undefined,
      l: r.lastEventAt ?? undefined, sa: x.rollup?.satisfaction, pi: x.rollup?.policyId, h: x.rollup?.hourMs,
      at: b(x.rollup?.attributed ?? false),
    };
  }))];
}

/** The insert of insertEvents (the record's columns match the table's by position; keys as in its document). */
const EVENTS_INSERT = `INSERT INTO feedback_events (project_id, event_id, type, video_id, user_hash, occurred_at, received_at,
                                    session_id, request_id, watch_ms, duration_ms, rating, dimension)
       SELECT e.p, e.i, e.t, e.v, e.u, ${FROM_MS('e.o')}, ${FROM_MS('e.r')}, e.s, e.q, e.w, e.d, e.g, e.m
         FROM json_to_recordset($1::json) AS e(p uuid, i text, t text, v text, u text, o float8,
                     r float8, s text, q text, w float8, d float8, g int2, m text)
       ON CONFLICT DO NOTHING
       RETURNING project_id, event_id`;
const EVENTS_INSERT_TIMED = `${EVENTS_INSERT}, (extract(epoch FROM occurred_at) * 1000)::float8 AS occurred_ms`;

/** Statement texts built once per input (the same string each call: preparedName hashes it once, nothing is rebuilt). */
const statementTexts = new WeakMap<object, Map<string, string>>();
function memoText(owner: object, key: string, build: () => string): string {
  let texts = statementTexts.get(owner);
  if (!texts) statementTexts.set(owner, (texts = new Map()));
  let text = texts.get(key);
  if (text === undefined) texts.set(key, (text = build()));
  return text;
}

/** The hourly and the daily rollup upserts of applyHourlyAndDaily, for these counters. */
function rollupStatements(counters: readonly string[]): { hourly: string; daily: string } {
  const base = 7;
  return {
    hourly: memoText(counters, 'hourly', () => `INSERT INTO satisfaction_rollups AS r (project_id, hour, model, model_version, category, segment, policy_id,
              ${counters.join(', ')})
       SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
              ${counters.map((_, i) => `$${base + i + 1}::float8[]`).join(', ')})
       ON CONFLICT (project_id, hour, model, model_version, category, segment) DO UPDATE SET
         policy_id = excluded.policy_id,
         ${counters.map((c) => `${c} = r.${c} + excluded.${c}`).join(', ')}`),
    daily: memoText(counters, 'daily', () => `INSERT INTO satisfaction_rollups_daily AS d (project_id, day, model, model_version, category, segment, ${counters.join(', ')})
       SELECT project_id, date_trunc('day', hour, 'UTC'), model, model_version, category, segment,
              ${counters.map((c) => `sum(${c})`).join(', ')}
         FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
              ${counters.map((_, i) => `$${6 + i + 1}::float8[]`).join(', ')})
              AS u(project_id, hour, model, model_version, category, segment, ${counters.join(', ')})
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY 1, 2, 3, 4, 5, 6
       ON CONFLICT (project_id, day, model, model_version, category, segment) DO UPDATE SET
         ${counters.map((c) => `${c} = d.${c} + excluded.${c}`).join(', ')}`),
  };
}

/**
 * The counters an aggregate table keeps (migration NarrowAggregates): those the moments
 * pair up and `viewers` (libs/satisfaction MOMENT_COUNTERS), for both; video_aggregates also the Σ² the per-video
 * read path ranks with (OVERALL_TABLES.videoSumSq). The other rollup counters are summed only in the rollups.
 */
function aggregateCounters(unit: 'video' | 'user', counters: readonly string[], moments: readonly MomentSpec[]): readonly string[] {
  return memoList(moments, counters, unit, () => counters.filter((c) => c === 'viewers' || moments.some((m) => m.a === c || m.b === c)
    || (unit === 'video' && c === OVERALL_TABLES.videoSumSq)));
}

const counterLists = new WeakMap<object, WeakMap<object, Map<string, readonly string[]>>>();
function memoList(a: object, b: object, key: string, build: () => readonly string[]): readonly string[] {
  let inner = counterLists.get(a);
  if (!inner) counterLists.set(a, (inner = new WeakMap()));
  let lists = inner.get(b);
  if (!lists) inner.set(b, (lists = new Map()));
  let list = lists.get(key);
  if (!list) lists.set(key, (list = build()));
  return list;
}

/** The statement of applyClusterDeltas for one unit, these counters and these moments. */
function clusterStatement(unit: 'video' | 'user', counters: readonly string[], moments: readonly MomentSpec[]): string {
  return memoText(moments, `${unit}|${counters.join(',')}`, () => buildClusterStatement(unit, counters, moments));
}

function buildClusterStatement(unit: 'video' | 'user', counters: readonly string[], moments: readonly MomentSpec[]): string {
  const video = unit === 'video';
  const keyColumns = video
    ? ['project_id', 'video_id', 'model', 'model_version', 'category', 'segment']
    : ['project_id', 'user_hash', 'model', 'model_version'];
  const keyTypes = video ? ['uuid', 'text', 'text', 'text', 'text', 'text'] : ['uuid', 'text', 'text', 'text'];
  const table = video ? 'video_aggregates' : 'user_aggregates';
  const deltaCols = counters.map((c) => `d_${c}`);
  const join = keyColumns.map((c) => `u.${c} = d.${c}`).join(' AND ');
  // The generation's created_at, for a video filed under its generation's dimensions.
  const createdAt = video
    ? `, (SELECT g.created_at FROM generations g WHERE g.project_id = d.project_id AND g.video_id = d.video_id AND d.model <> '')`
    : '';
  const momentDelta = (m: MomentSpec) => `sum(d.d_${m.a} * u.${m.b} + u.${m.a} * d.d_${m.b} - d.d_${m.a} * d.d_${m.b})`;
  return `WITH d AS (
         SELECT * FROM unnest(${[...keyTypes, ...counters.map(() => 'float8')].map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
           AS d(${[...keyColumns, ...deltaCols].join(', ')})
       ), u AS (
         INSERT INTO ${table} AS a (${keyColumns.join(', ')}${video ? ', created_at' : ''}, ${counters.join(', ')})
         SELECT ${keyColumns.map((c) => `d.${c}`).join(', ')}${createdAt}, ${deltaCols.map((c) => `d.${c}`).join(', ')}
           FROM d ORDER BY ${keyColumns.map((_, i) => i + 1).join(', ')}
         ON CONFLICT (${keyColumns.join(', ')}) DO UPDATE SET
           ${counters.map((c) => `${c} = a.${c} + excluded.${c}`).join(', ')}
         RETURNING ${keyColumns.map((c) => `a.${c}`).join(', ')}, ${[...new Set(moments.flatMap((m) => [m.a, m.b]).concat('viewers'))].map((c) => `a.${c}`).join(', ')}
       )
       SELECT u.project_id, '${unit}' AS unit, u.model, u.model_version, ${video ? 'u.category, u.segment' : "'' AS category, '' AS segment"},
              sum((u.viewers > 0)::int - (u.viewers - d.d_viewers > 0)::int)::float8 AS clusters,
              ${moments.map((m) => `${momentDelta(m)} AS ${m.name}`).join(', ')}
         FROM u JOIN d ON ${join}
        GROUP BY 1, 2, 3, 4, 5, 6`;
}

/** The upsert of applyMomentDeltas, for these moments. */
function momentStatement(moments: readonly MomentSpec[]): string {
  return memoText(moments, 'moments', () => `INSERT INTO cluster_moments AS m (project_id, unit, model, model_version, category, segment, clusters, ${moments.map((m) => m.name).join(', ')})
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[],
              ${moments.map((_, i) => `$${8 + i}::float8[]`).join(', ')})
       ON CONFLICT (project_id, unit, model, model_version, category, segment) DO UPDATE SET
         clusters = m.clusters + excluded.clusters, ${moments.map((x) => `${x.name} = m.${x.name} + excluded.${x.name}`).join(', ')}`);
}

/** The pg client under a TypeORM query runner (what run() needs of it). */
interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** Distinct statement texts prepared at most: the path has about twenty; past this bound, texts run unprepared. */
const MAX_PREPARED = 200;
const preparedNames = new Map<string, string>();

/** The prepared statement name of a text (a hash of it: one text, one name, on every connection); undefined past the bound. */
function preparedName(sql: string): string | undefined {
  let name = preparedNames.get(sql);
  if (name === undefined && preparedNames.size < MAX_PREPARED) {
    name = `fw_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
    preparedNames.set(sql, name);
  }
  return name;
}

/** The columns of video_user_signals that rowToSignal reads (named: a prepared statement must not select `*`). */
const SIGNAL_COLUMNS = [
  'project_id', 'video_id', 'user_hash', 'impressed', 'played', 'completed', 'max_watch_ratio', 'max_watch_ms',
  'duration_ms', 'liked', 'favorited', 'shared', 'downloaded', 'exported', 'commented', 'rating', 'dimension_ratings',
  'chosen', 'passed_over', 'regenerated', 'discarded', 'disliked', 'reported', 'clock', 'event_count',
  'first_event_at', 'last_event_at', 'satisfaction', 'policy_id', 'rollup_hour', 'rollup_attributed',
] as const;

/** Fixed texts of the per-batch path, built once (see run and preparedName). */
const LOCK_KEYS = {
  shared: 'SELECT count(pg_advisory_xact_lock_shared($1::int4, s)) FROM unnest($2::int4[]) AS s',
  exclusive: 'SELECT count(pg_advisory_xact_lock($1::int4, s)) FROM unnest($2::int4[]) AS s',
} as const;
/**
 * The chooses of a batch by their full key, one index lookup per choose in the one partition its time names (a
 * lateral lookup with OFFSET 0, as GENERATIONS_OF). Matching them as a set instead, `(event_id, occurred_at) IN
 * (…)`, was planned as a scan of the project's entries of every partition the times touch, filtered by time: the
 * whole day's events once per batch, growing with the day (at 200k events, 400 ms a batch).
 */
const PASSED_OVER_OF_CHOOSES = `SELECT video_id, user_hash, event_id, occurred_at FROM (${PASSED_OVER(
  'true',
  `unnest($2::text[], $3::timestamptz[]) AS k(event_id, occurred_at)
            CROSS JOIN LATERAL (SELECT f.project_id, f.video_id, f.user_hash, f.event_id, f.occurred_at, f.type FROM feedback_events f
                                 WHERE f.project_id = $1 AND f.event_id = k.event_id AND f.occurred_at = k.occurred_at OFFSET 0) AS c`,
)}) AS p`;
/**
 * The chooses of the videos of these videos' requests, by the partial index of chooses per (project, video)
 * (migration ChooseEventsIndex): one lookup per candidate video in each partition, never the project's other events.
 */
const PASSED_OVER_OF_VIDEOS = `SELECT video_id, user_hash, event_id, occurred_at FROM (${PASSED_OVER(
  '(g.video_id = ANY($2::text[]) OR s.video_id = ANY($2::text[]))',
  `(SELECT DISTINCT v.video_id FROM generations r
              JOIN generations v ON v.project_id = r.project_id AND v.request_id = r.request_id
             WHERE r.project_id = $1 AND r.video_id = ANY($2::text[])) AS k
            CROSS JOIN LATERAL (SELECT f.project_id, f.video_id, f.user_hash, f.event_id, f.occurred_at, f.type FROM feedback_events f
                                 WHERE f.project_id = $1 AND f.video_id = k.video_id AND f.type = 'choose' OFFSET 0) AS c`,
)}) AS p`;
/**
 * One index lookup per key, locking in the keys' order (the caller sorts them). Not a join: with a batch of keys
 * the planner hashes the whole table (a sequential scan per batch, growing with the table) whenever its row
 * estimate for the keys is large or the table's statistics lag; a lateral lookup per key cannot scan it.
 */
const SIGNALS_LOCK = `SELECT ${SIGNAL_COLUMNS.map((c) => `s.${c}`).join(', ')}
         FROM unnest($1::uuid[], $2::text[], $3::text[]) WITH ORDINALITY AS k(project_id, video_id, user_hash, n)
        CROSS JOIN LATERAL (
          SELECT ${SIGNAL_COLUMNS.map((c) => `v.${c}`).join(', ')} FROM video_user_signals v
           WHERE v.project_id = k.project_id AND v.video_id = k.video_id AND v.user_hash = k.user_hash
             FOR UPDATE) AS s
        ORDER BY k.n`;
/**
 * The generations of a batch's videos, one primary-key lookup per video (as SIGNALS_LOCK: with `video_id = ANY(…)`
 * a custom plan scans the table once the keys are many, and a generic plan cached while the table had no statistics
 * read every generation of the project). OFFSET 0 keeps the planner from flattening the lateral subquery back into
 * a join (which it would plan like the `ANY` form).
 */
const GENERATIONS_OF = `SELECT g.video_id, g.request_id, g.model, g.model_version AS "modelVersion",
              coalesce(g.category, '') AS category, coalesce(g.segment, '') AS segment
         FROM unnest($2::text[]) AS k(video_id)
        CROSS JOIN LATERAL (SELECT video_id, request_id, model, model_version, category, segment FROM generations
                             WHERE project_id = $1 AND video_id = k.video_id OFFSET 0) AS g`;
/** Signal rows of these videos rolled up before their generation arrived: an index range per video (as above). */
const UNATTRIBUTED_KEYS = `SELECT s.video_id, s.user_hash
         FROM unnest($2::text[]) AS k(video_id)
        CROSS JOIN LATERAL (SELECT video_id, user_hash FROM video_user_signals
                             WHERE project_id = $1 AND video_id = k.video_id AND rollup_hour IS NOT NULL
                               AND NOT rollup_attributed OFFSET 0) AS s`;
const SIGNALS_INSERT_NEW = `${SIGNAL_INSERT} ON CONFLICT (project_id, video_id, user_hash) DO NOTHING RETURNING project_id, video_id, user_hash`;
const SIGNALS_UPSERT = `${SIGNAL_INSERT}
       ON CONFLICT (project_id, video_id, user_hash) DO UPDATE SET
         impressed = excluded.impressed, played = excluded.played, completed = excluded.completed,
         max_watch_ratio = excluded.max_watch_ratio, max_watch_ms = excluded.max_watch_ms,
         duration_ms = excluded.duration_ms, liked = excluded.liked, favorited = excluded.favorited,
         shared = excluded.shared, downloaded = excluded.downloaded, exported = excluded.exported,
         commented = excluded.commented, rating = excluded.rating, dimension_ratings = excluded.dimension_ratings,
         chosen = excluded.chosen, passed_over = excluded.passed_over, regenerated = excluded.regenerated,
         discarded = excluded.discarded, disliked = excluded.disliked, reported = excluded.reported,
         clock = excluded.clock, event_count = excluded.event_count, first_event_at = excluded.first_event_at,
         last_event_at = excluded.last_event_at, satisfaction = excluded.satisfaction, policy_id = excluded.policy_id,
         rollup_hour = excluded.rollup_hour, rollup_attributed = excluded.rollup_attributed, updated_at = now()`;

export class IngestRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (tx: IngestTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((em) => work(new IngestTransaction(em)));
  }
}

export function compareKeys(a: SignalKey, b: SignalKey): number {
  return a.projectId < b.projectId ? -1 : a.projectId > b.projectId ? 1
    : a.videoId < b.videoId ? -1 : a.videoId > b.videoId ? 1
    : a.userHash < b.userHash ? -1 : a.userHash > b.userHash ? 1 : 0;
}

/**
 * The list sorted by a string key computed once per item (code-unit order: the order only has to be the same in
 * every transaction, so that concurrent batches lock rows in one order).
 */
function sortedByKey<T>(list: T[], key: (item: T) => string): T[] {
  return list.map((item) => ({ item, k: key(item) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.item);
}

function rollupKey(d: RollupDelta): string {
  return `${d.projectId}|${d.hourMs}|${d.model}|${d.modelVersion}|${d.category}|${d.segment}`;
}

export function rowToSignal(row: Record<string, unknown>): StoredSignal {
  const ms = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).getTime());
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  // A real column comes back as its shortest decimal text; fround gives back exactly the float32 that was written.
  const real = (v: unknown) => (v === null || v === undefined ? null : Math.fround(Number(v)));
  return {
    projectId: row.project_id as string,
    videoId: row.video_id as string,
    userHash: row.user_hash as string,
    record: {
      impressed: row.impressed as boolean, played: row.played as boolean, completed: row.completed as boolean,
      maxWatchRatio: real(row.max_watch_ratio), maxWatchMs: num(row.max_watch_ms), durationMs: num(row.duration_ms),
      liked: row.liked as boolean, favorited: row.favorited as boolean, shared: row.shared as boolean,
      downloaded: row.downloaded as boolean, exported: row.exported as boolean, commented: row.commented as boolean,
      rating: num(row.rating), dimensionRatings: (row.dimension_ratings ?? {}) as Record<string, number>,
      chosen: row.chosen as boolean, passedOver: row.passed_over as boolean, regenerated: row.regenerated as boolean,
      discarded: row.discarded as boolean, disliked: row.disliked as boolean, reported: row.reported as boolean,
      clock: (row.clock ?? {}) as SignalRecord['clock'], eventCount: row.event_count as number,
      firstEventAt: ms(row.first_event_at), lastEventAt: ms(row.last_event_at),
    },
    rollup: row.rollup_hour === null || row.rollup_hour === undefined ? null : {
      satisfaction: real(row.satisfaction)!, policyId: row.policy_id as string, hourMs: ms(row.rollup_hour)!,
      attributed: row.rollup_attributed as boolean,
    },
  };
}
