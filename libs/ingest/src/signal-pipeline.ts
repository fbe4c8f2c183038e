import {
  FeedbackEventMessage, FoldableEvent, GenerationMessage, SignalRecord, emptySignalRecord, foldEvent, instantMs,
} from '@flywheel/contracts';
import {
  DerivedDeltas, DimensionRollupDelta, DimensionUserDelta, DimensionVideoDelta, IngestTransaction, PassedOverRow, RollupDelta, SignalKey, StoredSignal, UNATTRIBUTED, UserClusterDelta,
  VideoClusterDelta, VideoDims,
} from '@flywheel/database';
import { groupBy } from '@flywheel/preferences';
import {
  DIMENSION_COUNTERS, DIMENSION_MOMENT_COLUMNS, MOMENT_COLUMNS, ROLLUP_COUNTERS, SatisfactionPolicyParams, WatchQuantiles,
  contributionInto, dimensionContribution, scoreOf,
} from '@flywheel/satisfaction';

export const HOUR_MS = 3_600_000;
/** Rollup deltas per statement of a deletion (as the rebuild writes them). */
const DELTA_ROWS = 5_000;

export interface EventsOutcome {
  /** Events stored by this batch (the new ones). */
  persisted: number;
  /** Events of deleted users, dropped (never dead-lettered: that would keep deleted data). */
  dropped: number;
  /** Events of deleted projects: the caller dead-letters them. */
  refused: FeedbackEventMessage[];
}

export interface GenerationsOutcome {
  persisted: number;
  /** Generations of deleted projects: the caller dead-letters them. */
  refused: GenerationMessage[];
}

export interface UserDeletionCounts {
  /** From then on the worker drops the user's events that happened or reached the api before it. */
  tombstonedAt: string;
  events: number;
  signalRows: number;
  rollupRows: number;
}

/** Supplies the watch quantiles of a project (learned, or the policy's defaults). */
export interface QuantilesSource {
  forProjects(projectIds: string[]): Promise<Map<string, WatchQuantiles>>;
}

/**
 * Derived state of the ingest path, inside the batch's transaction: new events fold into per-(video, user) signal
 * rows; each changed row is rescored with the satisfaction policy, and its hourly rollup gets (new contribution −
 * old contribution). Rollups therefore always equal the sum over the current signal rows.
 *
 * Signal rows are a function of the stored events and generations, whatever their arrival order (invariant 9):
 * whichever of an event and a generation is stored last does the work that needs both — a generation attributes
 * the rows rolled up before it and adds the `passed_over` events (the one rule: PASSED_OVER in libs/database) of
 * chooses stored before it; overlapping transactions are ordered by the locks described at DERIVED_LOCKS.
 */
export class SignalPipeline {
  constructor(private readonly policy: SatisfactionPolicyParams, private readonly quantiles: QuantilesSource) {}

  /**
   * One batch of events, inside the caller's transaction: stores them and folds those that were new. First, under
   * the projects' deletion lock (DELETION_LOCK in libs/database), events of a deleted project are refused (the caller
   * dead-letters them) and events of a deleted user that happened or reached the api before the deletion are dropped:
   * a retry or a late delivery never brings deleted data back.
   */
  async ingestEvents(tx: IngestTransaction, events: FeedbackEventMessage[]): Promise<EventsOutcome> {
    if (events.length === 0) return { persisted: 0, dropped: 0, refused: [] };
    const projectIds = [...new Set(events.map((e) => e.projectId))];
    await tx.lockProjects('shared', projectIds);
    const users = new Map(events.map((e) => [`${e.projectId}|${e.userHash}`, { projectId: e.projectId, userHash: e.userHash }]));
    const { deletedProjects, tombstones } = await tx.closedFor(projectIds, [...users.values()]);
    const refused: FeedbackEventMessage[] = [];
    const admitted: FeedbackEventMessage[] = [];
    let dropped = 0;
    for (const e of events) {
      const deletedAt = tombstones.get(`${e.projectId}|${e.userHash}`);
      if (deletedProjects.has(e.projectId)) refused.push(e);
      else if (deletedAt !== undefined && (Date.parse(e.occurredAt) <= deletedAt || Date.parse(e.receivedAt) <= deletedAt)) dropped++;
      else admitted.push(e);
    }
    const newEvents = await tx.insertEvents(admitted);
    await this.applyEvents(tx, newEvents);
    return { persisted: newEvents.length, dropped, refused };
  }

  /**
   * One batch of generations, inside the caller's transaction: stores the new ones and updates derived state.
   * Generations of a deleted project are refused (the caller dead-letters them), as events are.
   */
  async ingestGenerations(tx: IngestTransaction, batch: GenerationMessage[]): Promise<GenerationsOutcome> {
    if (batch.length === 0) return { persisted: 0, refused: [] };
    const projectIds = [...new Set(batch.map((g) => g.projectId))];
    await tx.lockProjects('shared', projectIds);
    const { deletedProjects } = await tx.closedFor(projectIds, []);
    const refused = batch.filter((g) => deletedProjects.has(g.projectId));
    const generations = refused.length ? batch.filter((g) => !deletedProjects.has(g.projectId)) : batch;
    if (generations.length === 0) return { persisted: 0, refused };
    // Before the insert and every read: all video locks, then all request locks (DERIVED_LOCKS).
    await tx.lockDerived('exclusive', 'video', generations.map((g) => ({ projectId: g.projectId, id: g.videoId })));
    await tx.lockDerived('exclusive', 'request', generations.map((g) => ({ projectId: g.projectId, id: g.requestId })));
    const fresh = await tx.insertGenerations(generations);
    const pending = new PendingFolds();
    for (const [projectId, list] of groupBy(fresh, (g) => g.projectId)) {
      const videoIds = list.map((g) => g.videoId);
      // Rows rolled up while the generation was unknown: refolded with nothing new, they move to its model version.
      for (const key of await tx.unattributedKeys(projectId, videoIds)) pending.touch(key);
      // Chooses stored before this generation, in the pairs it completes (as the chosen video or as a sibling).
      for (const row of await tx.passedOverOfVideos(projectId, videoIds)) {
        pending.add({ projectId, videoId: row.videoId, userHash: row.userHash }, passedOverEvent(row));
      }
    }
    await this.fold(tx, pending, new Map());
    return { persisted: fresh.length, refused };
  }

  /**
   * Deletes a user's data in a project, inside the caller's transaction, through the path every change of derived
   * state takes: the project's deletion lock (exclusive: the batches in flight commit first, later ones see the
   * tombstone), the tombstone, then the user's signal rows and events; what the rows contributed to the rollups is
   * taken back with the same (− old contribution) deltas a refold applies, so the state equals a rebuild afterwards.
   * Only the user's own rows hold their events and their `passed_over` events (a choose marks the chooser's rows), so
   * no other row changes. Idempotent: a second run finds nothing more (and moves the tombstone to now).
   */
  async deleteUser(tx: IngestTransaction, projectId: string, userHash: string): Promise<UserDeletionCounts> {
    await tx.lockProjects('exclusive', [projectId]);
    const tombstonedAt = await tx.tombstone(projectId, userHash);
    const rows = await tx.deleteUserSignals(projectId, userHash);
    const videoIds = [...new Set(rows.map((r) => r.videoId))];
    const generations = await tx.generationsOf(projectId, videoIds);
    const rollups = new RollupAccumulator(this.policy.id);
    for (const row of rows) withdraw(rollups, row, generations.get(row.videoId)?.dims ?? null);
    const events = await tx.deleteUserEvents(projectId, userHash, videoIds, occurredSpan(rows.map((r) => r.record)));
    const deltas = rollups.deltas();
    for (const chunk of chunkDeltas(deltas, DELTA_ROWS)) await applyDerivedDeltas(tx, chunk);
    // Their per-user aggregates are zero now (up to float rounding): the rows go, hash and all, as a rebuild has none.
    await tx.deleteUserAggregates(projectId, userHash);
    return { tombstonedAt: tombstonedAt.toISOString(), events, signalRows: rows.length, rollupRows: deltas.rollups.length };
  }

  /** `events` must be only the events that were new in this transaction (invariant 2). */
  private async applyEvents(tx: IngestTransaction, events: FeedbackEventMessage[]): Promise<void> {
    if (events.length === 0) return;
    const pending = new PendingFolds();
    for (const e of events) pending.add(e, toFoldable(e));

    // Generations of the events' videos. One not found may be committing right now: lock it and read again, so that
    // either we see it, or its transaction waits for ours and then sees our rows (DERIVED_LOCKS).
    const byProject = groupBy(events, (e) => e.projectId);
    const found = new Map<string, { requestId: string; dims: VideoDims } | null>();
    const lookUp = async (projectId: string, videoIds: string[]) => {
      const stored = await tx.generationsOf(projectId, videoIds);
      for (const videoId of videoIds) found.set(`${projectId}|${videoId}`, stored.get(videoId) ?? null);
    };
    for (const [projectId, list] of byProject) await lookUp(projectId, [...new Set(list.map((e) => e.videoId))]);
    const unknown = [...found.entries()].filter(([, g]) => g === null).map(([id]) => splitId(id));
    await tx.lockDerived('shared', 'video', unknown);
    for (const [projectId, list] of groupBy(unknown, (k) => k.projectId)) await lookUp(projectId, list.map((k) => k.id));

    // A choose marks the other candidates of its request passed over: lock the request against a sibling's
    // generation being stored meanwhile, then read the pairs.
    const chooses = events.filter((e) => e.type === 'choose' && found.get(`${e.projectId}|${e.videoId}`));
    await tx.lockDerived('shared', 'request', chooses.map((c) => ({ projectId: c.projectId, id: found.get(`${c.projectId}|${c.videoId}`)!.requestId })));
    for (const [projectId, list] of groupBy(chooses, (c) => c.projectId)) {
      for (const row of await tx.passedOverOfChooses(projectId, list)) {
        pending.add({ projectId, videoId: row.videoId, userHash: row.userHash }, passedOverEvent(row));
      }
    }
    const dims = new Map<string, VideoDims | null>([...found].map(([id, g]) => [id, g ? g.dims : null]));
    await this.fold(tx, pending, dims);
  }

  /**
   * Folds pending events into their rows (a key without events is refolded as it is: rescored and re-attributed),
   * writes the rows and applies (new − old contribution) to the rollups. `dims` holds the rollup dimensions already
   * read (null: no generation); the other videos' are read here.
   */
  private async fold(tx: IngestTransaction, pending: PendingFolds, dims: Map<string, VideoDims | null>): Promise<void> {
    if (pending.entries.size === 0) return;
    const keys = [...pending.entries.values()].map((w) => w.key);
    const unread = keys.filter((k) => !dims.has(`${k.projectId}|${k.videoId}`));
    for (const [projectId, list] of groupBy(unread, (k) => k.projectId)) {
      const videoIds = [...new Set(list.map((k) => k.videoId))];
      const stored = await tx.generationsOf(projectId, videoIds);
      for (const videoId of videoIds) dims.set(`${projectId}|${videoId}`, stored.get(videoId)?.dims ?? null);
    }
    const quantiles = await this.quantiles.forProjects([...new Set(keys.map((k) => k.projectId))]);
    const refold = (key: SignalKey, events: FoldableEvent[], before: StoredSignal | undefined): StoredSignal => {
      const record: SignalRecord = before ? copyRecord(before.record) : emptySignalRecord();
      for (const event of events) foldEvent(record, event);
      const satisfaction = scoreOf(record, this.policy, quantiles.get(key.projectId)!);
      const hourMs = Math.floor(record.firstEventAt! / HOUR_MS) * HOUR_MS;
      const attributed = Boolean(dims.get(`${key.projectId}|${key.videoId}`));
      return { ...key, record, rollup: { satisfaction, policyId: this.policy.id, hourMs, attributed } };
    };

    // Insert first: most keys with events have no row yet (at 100k events, 95% of a batch's keys), and the insert
    // finds out which do in the same index probes that write the new rows, so only the rest are looked up and locked
    // (one probe per key fewer for the common case). A row is written once, in its final state; a key whose row
    // exists — before, or inserted meanwhile by another batch, which the insert waits for — is skipped by the insert,
    // then locked, refolded on top of what is stored and updated. A key touched without events (a row to
    // re-attribute) is only locked and refolded where its row exists.
    const fresh = new Map([...pending.entries].filter(([, w]) => w.events.length > 0)
      .map(([id, w]) => [id, refold(w.key, w.events, undefined)]));
    const inserted = await tx.insertNewSignals([...fresh.values()]);
    const existing = [...pending.entries].filter(([id]) => !inserted.has(id)).map(([, w]) => w.key);
    const stored = new Map((await tx.lockExistingSignals(existing)).map((s) => [keyId(s), s]));

    const rollups = new RollupAccumulator(this.policy.id);
    const updated: StoredSignal[] = [];
    for (const [id, { key, events }] of pending.entries) {
      const before = stored.get(id);
      if (!before && !inserted.has(id)) {
        if (events.length === 0) continue;
        throw new Error(`signal row ${id} neither inserted nor found; retrying the batch`);
      }
      const videoDims = dims.get(`${key.projectId}|${key.videoId}`) ?? null;
      if (before) withdraw(rollups, before, videoDims);
      const after = before ? refold(key, events, before) : fresh.get(id)!;
      rollups.add(key, after.rollup!.hourMs, videoDims ?? UNATTRIBUTED, contributionInto(scratch, after.record, after.rollup!.satisfaction), 1, after.record.dimensionRatings);
      if (before) updated.push(after);
    }
    await tx.upsertSignals(updated);
    await applyDerivedDeltas(tx, rollups.deltas());
  }
}

/** The contribution being added (RollupAccumulator.add reads it at once and keeps nothing of it). */
const scratch = new Float64Array(ROLLUP_COUNTERS.length);

/**
 * The span of times the records' events happened in (each record keeps its first and last), or null when a record
 * does not say: then nothing may be assumed about where its events are.
 */
export function occurredSpan(records: SignalRecord[]): { fromMs: number; toMs: number } | null {
  let fromMs = Infinity;
  let toMs = -Infinity;
  for (const r of records) {
    if (r.firstEventAt === null || r.lastEventAt === null) return null;
    fromMs = Math.min(fromMs, r.firstEventAt);
    toMs = Math.max(toMs, r.lastEventAt);
  }
  return records.length ? { fromMs, toMs } : null;
}

/**
 * Takes back what a stored row contributed to the rollups (nothing if it never was rolled up): under its video's
 * dimensions if it was attributed, else under UNATTRIBUTED. A refold and a user's deletion both go through here.
 */
function withdraw(rollups: RollupAccumulator, row: StoredSignal, videoDims: VideoDims | null): void {
  if (!row.rollup) return;
  const dims = row.rollup.attributed && videoDims ? videoDims : UNATTRIBUTED;
  rollups.add(row, row.rollup.hourMs, dims, contributionInto(scratch, row.record, row.rollup.satisfaction), -1, row.record.dimensionRatings);
}

/** Events to fold per signal row, keyed by project|video|user. */
class PendingFolds {
  readonly entries = new Map<string, { key: SignalKey; events: FoldableEvent[] }>();

  add(key: SignalKey, event: FoldableEvent): void {
    this.touch(key).events.push(event);
  }

  /** A row to refold even without new events. */
  touch(key: SignalKey): { key: SignalKey; events: FoldableEvent[] } {
    const id = keyId(key);
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { key: { projectId: key.projectId, videoId: key.videoId, userHash: key.userHash }, events: [] };
      this.entries.set(id, entry);
    }
    return entry;
  }
}

function passedOverEvent(row: PassedOverRow): FoldableEvent {
  return { type: 'passed_over', eventId: row.eventId, occurredAtMs: row.occurredAtMs };
}

function splitId(id: string): { projectId: string; id: string } {
  const bar = id.indexOf('|');
  return { projectId: id.slice(0, bar), id: id.slice(bar + 1) };
}

/**
 * Sums signed contributions of signal rows per rollup row, per video and per (user, model version), so one statement
 * per table applies a batch's changes. Every writer of derived sums goes through here: the ingest path, the rebuild,
 * and anything that takes a row's contribution out (with sign −1).
 */
export class RollupAccumulator {
  private readonly rows = new Map<string, RollupDelta>();
  private readonly videos = new Map<string, VideoClusterDelta>();
  private readonly users = new Map<string, UserClusterDelta>();
  private readonly dimensionRows = new Map<string, DimensionRollupDelta>();
  private readonly dimensionVideos = new Map<string, DimensionVideoDelta>();
  private readonly dimensionUsers = new Map<string, DimensionUserDelta>();

  constructor(private readonly policyId: string) {}

  /**
   * The contribution of signal row `key`, under rollup hour `hourMs` and dimensions `dims`, added with `sign`; and,
   * per rating dimension the row rated (`ratings`, its dimensionRatings), that rating's contribution to the
   * per-dimension sums. A row without dimension ratings adds nothing there.
   */
  add(key: SignalKey, hourMs: number, dims: VideoDims, contribution: Float64Array, sign: 1 | -1, ratings?: Readonly<Record<string, number>>): void {
    if (ratings) for (const dimension in ratings) this.addRating(key, hourMs, dims, dimension, ratings[dimension], sign);
    const { projectId } = key;
    const { cell, version } = cellKeys(dims);
    const id = `${projectId}|${hourMs}|${cell}`;
    let row = this.rows.get(id);
    if (!row) {
      row = { projectId, hourMs, ...dims, policyId: this.policyId, values: new Float64Array(ROLLUP_COUNTERS.length) };
      this.rows.set(id, row);
    }
    const videoId = `${projectId}|${key.videoId}|${cell}`;
    let video = this.videos.get(videoId);
    if (!video) {
      video = { projectId, videoId: key.videoId, ...dims, values: new Float64Array(ROLLUP_COUNTERS.length), key: videoId };
      this.videos.set(videoId, video);
    }
    const userId = `${projectId}|${key.userHash}|${version}`;
    let user = this.users.get(userId);
    if (!user) {
      user = { projectId, userHash: key.userHash, model: dims.model, modelVersion: dims.modelVersion, values: new Float64Array(ROLLUP_COUNTERS.length), key: userId };
      this.users.set(userId, user);
    }
    for (let i = 0; i < contribution.length; i++) {
      const v = sign * contribution[i];
      row.values[i] += v;
      video.values[i] += v;
      user.values[i] += v;
    }
  }

  private addRating(key: SignalKey, hourMs: number, dims: VideoDims, dimension: string, rating: number, sign: 1 | -1): void {
    const { projectId } = key;
    const cell = `${dims.model}|${dims.modelVersion}|${dims.category}|${dims.segment}|${dimension}`;
    const at = <T extends { values: Float64Array }>(map: Map<string, T>, id: string, make: () => Omit<T, 'values'>): T => {
      let entry = map.get(id);
      if (!entry) map.set(id, (entry = { ...make(), values: new Float64Array(DIMENSION_COUNTERS.length) } as T));
      return entry;
    };
    const row = at(this.dimensionRows, `${projectId}|${hourMs}|${cell}`, () => ({ projectId, hourMs, ...dims, dimension }));
    const video = at(this.dimensionVideos, `${projectId}|${key.videoId}|${cell}`, () => ({ projectId, videoId: key.videoId, ...dims, dimension }));
    const user = at(this.dimensionUsers, `${projectId}|${key.userHash}|${dims.model}|${dims.modelVersion}|${dimension}`,
      () => ({ projectId, userHash: key.userHash, model: dims.model, modelVersion: dims.modelVersion, dimension }));
    const contribution = dimensionContribution(rating);
    for (let i = 0; i < contribution.length; i++) {
      const v = sign * contribution[i];
      row.values[i] += v;
      video.values[i] += v;
      user.values[i] += v;
    }
  }

  deltas(): DerivedDeltas {
    const nonZero = <T extends { values: Float64Array }>(list: Iterable<T>) => [...list].filter((d) => d.values.some((v) => v !== 0));
    return {
      rollups: nonZero(this.rows.values()), videos: nonZero(this.videos.values()), users: nonZero(this.users.values()),
      dimensions: {
        rollups: nonZero(this.dimensionRows.values()), videos: nonZero(this.dimensionVideos.values()), users: nonZero(this.dimensionUsers.values()),
      },
    };
  }
}

/**
 * The key parts of a video's rollup dimensions, built once per dimensions object (a batch passes the same object for
 * every row of a video, and UNATTRIBUTED for all rows without a generation): `cell` all four, `version` model and version.
 */
const dimsKeys = new WeakMap<VideoDims, { cell: string; version: string }>();
function cellKeys(dims: VideoDims): { cell: string; version: string } {
  let keys = dimsKeys.get(dims);
  if (!keys) {
    const version = `${dims.model}|${dims.modelVersion}`;
    dimsKeys.set(dims, (keys = { cell: `${version}|${dims.category}|${dims.segment}`, version }));
  }
  return keys;
}

/** Applies derived deltas (rollups, video and user aggregates, cluster moments) in the caller's transaction. */
export async function applyDerivedDeltas(tx: IngestTransaction, deltas: DerivedDeltas): Promise<void> {
  await tx.applyRollupDeltas(deltas, ROLLUP_COUNTERS, MOMENT_COLUMNS);
  const d = deltas.dimensions;
  // Batches whose rows touch no dimension rating (most) write nothing more: no statement, no round trip.
  if (d && (d.rollups.length || d.videos.length || d.users.length)) await tx.applyDimensionDeltas(d, DIMENSION_COUNTERS, DIMENSION_MOMENT_COLUMNS);
}

/** Derived deltas in chunks of at most `rows` rows per table, for the writers that apply many (rebuild, deletion). */
export function chunkDeltas(deltas: DerivedDeltas, rows: number): DerivedDeltas[] {
  const d = deltas.dimensions ?? { rollups: [], videos: [], users: [] };
  const longest = Math.max(deltas.rollups.length, deltas.videos.length, deltas.users.length, d.rollups.length, d.videos.length, d.users.length);
  const out: DerivedDeltas[] = [];
  for (let i = 0; i < longest; i += rows) {
    const slice = <T>(list: T[]) => list.slice(i, i + rows);
    out.push({
      rollups: slice(deltas.rollups), videos: slice(deltas.videos), users: slice(deltas.users),
      dimensions: { rollups: slice(d.rollups), videos: slice(d.videos), users: slice(d.users) },
    });
  }
  return out;
}

/** The fold mutates its record; the old one must stay intact to take its rollup contribution back out. */
function copyRecord(record: SignalRecord): SignalRecord {
  return { ...record, dimensionRatings: { ...record.dimensionRatings }, clock: { ...record.clock } };
}

function keyId(k: SignalKey): string {
  return `${k.projectId}|${k.videoId}|${k.userHash}`;
}

export function toFoldable(e: FeedbackEventMessage): FoldableEvent {
  return {
    type: e.type, eventId: e.eventId, occurredAtMs: instantMs(e.occurredAt), watchMs: e.watchMs,
    durationMs: e.durationMs, rating: e.rating, dimension: e.dimension,
  };
}
