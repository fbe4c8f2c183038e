import {
  FeedbackEventMessage, FoldableEvent, SignalRecord, emptySignalRecord, foldEvent,
} from '@flywheel/contracts';
import {
  IngestTransaction, RollupDelta, SignalKey, StoredSignal, UNATTRIBUTED, VideoDims,
} from '@flywheel/database';
import { groupBy } from '@flywheel/preferences';
import {
  ROLLUP_COUNTERS, SatisfactionPolicyParams, WatchQuantiles, contributionOf, scoreAndContribute,
} from '@flywheel/satisfaction';

export const HOUR_MS = 3_600_000;

/** Supplies the watch quantiles of a project (learned, or the policy's defaults). */
export interface QuantilesSource {
  forProjects(projectIds: string[]): Promise<Map<string, WatchQuantiles>>;
}

/**
 * Derived state of the ingest path, inside the batch's transaction: new events fold into per-(video, user) signal
 * rows; each changed row is rescored with the satisfaction policy, and its hourly rollup gets (new contribution −
 * old contribution). Rollups therefore always equal the sum over the current signal rows.
 */
export class SignalPipeline {
  constructor(private readonly policy: SatisfactionPolicyParams, private readonly quantiles: QuantilesSource) {}

  /** `events` must be only the events that were new in this transaction (invariant 2). */
  async applyEvents(tx: IngestTransaction, events: FeedbackEventMessage[]): Promise<void> {
    if (events.length === 0) return;
    const work = new Map<string, { key: SignalKey; events: FoldableEvent[] }>();
    const add = (key: SignalKey, event: FoldableEvent) => {
      const id = keyId(key);
      const entry = work.get(id) ?? { key, events: [] };
      entry.events.push(event);
      work.set(id, entry);
    };
    for (const e of events) add(e, toFoldable(e));
    await this.addPassedOver(tx, events, add);

    const keys = [...work.values()].map((w) => w.key);
    const stored = new Map((await tx.lockExistingSignals(keys)).map((s) => [keyId(s), s]));
    const dims = await this.dimsOf(tx, keys);
    const quantiles = await this.quantiles.forProjects([...new Set(keys.map((k) => k.projectId))]);
    const fold = (key: SignalKey, pending: FoldableEvent[], before: StoredSignal | undefined): StoredSignal => {
      const record: SignalRecord = before ? copyRecord(before.record) : emptySignalRecord();
      for (const event of pending) foldEvent(record, event);
      const { satisfaction } = scoreAndContribute(record, this.policy, quantiles.get(key.projectId)!);
      const hourMs = Math.floor(record.firstEventAt! / HOUR_MS) * HOUR_MS;
      const attributed = dims.has(`${key.projectId}|${key.videoId}`);
      return { ...key, record, rollup: { satisfaction, policyId: this.policy.id, hourMs, attributed } };
    };

    // New rows are written once, in their final state; a key another batch created meanwhile is refolded on top.
    const fresh = new Map([...work.entries()].filter(([id]) => !stored.has(id)).map(([id, w]) => [id, fold(w.key, w.events, undefined)]));
    const inserted = await tx.insertNewSignals([...fresh.values()]);
    const raced = [...fresh.keys()].filter((id) => !inserted.has(id)).map((id) => work.get(id)!.key);
    for (const row of await tx.lockExistingSignals(raced)) stored.set(keyId(row), row);

    const rollups = new RollupAccumulator(this.policy.id);
    const updated: StoredSignal[] = [];
    for (const [id, { key, events: pending }] of work) {
      const before = stored.get(id);
      const videoDims = dims.get(`${key.projectId}|${key.videoId}`);
      if (before?.rollup) {
        const oldDims = before.rollup.attributed && videoDims ? videoDims : UNATTRIBUTED;
        rollups.add(key.projectId, before.rollup.hourMs, oldDims, contributionOf(before.record, before.rollup.satisfaction), -1);
      }
      if (!before && !inserted.has(id)) throw new Error(`signal row ${id} neither inserted nor found; retrying the batch`);
      const after = before ? fold(key, pending, before) : fresh.get(id)!;
      rollups.add(key.projectId, after.rollup!.hourMs, videoDims ?? UNATTRIBUTED, contributionOf(after.record, after.rollup!.satisfaction), 1);
      if (before) updated.push(after);
    }
    await tx.upsertSignals(updated);
    await tx.applyRollupDeltas(rollups.deltas(), ROLLUP_COUNTERS);
  }

  /** New generations: rows rolled up before their generation arrived move to the generation's model version. */
  async attributeGenerations(tx: IngestTransaction, generations: { projectId: string; videoId: string }[]): Promise<void> {
    const byProject = groupBy(generations, (g) => g.projectId);
    for (const [projectId, list] of byProject) {
      const videoIds = list.map((g) => g.videoId);
      const rows = await tx.unattributedSignals(projectId, videoIds);
      if (rows.length === 0) continue;
      const dims = await tx.videoDims(projectId, [...new Set(rows.map((r) => r.videoId))]);
      const rollups = new RollupAccumulator(this.policy.id);
      for (const row of rows) {
        const mark = row.rollup!;
        const contribution = contributionOf(row.record, mark.satisfaction);
        rollups.add(projectId, mark.hourMs, UNATTRIBUTED, contribution, -1);
        rollups.add(projectId, mark.hourMs, dims.get(row.videoId)!, contribution, 1);
        mark.attributed = true;
      }
      await tx.upsertSignals(rows);
      await tx.applyRollupDeltas(rollups.deltas(), ROLLUP_COUNTERS);
    }
  }

  /** A `choose` marks the other candidates of the same request as passed over by that user. */
  private async addPassedOver(tx: IngestTransaction, events: FeedbackEventMessage[], add: (key: SignalKey, e: FoldableEvent) => void) {
    const chooses = events.filter((e) => e.type === 'choose');
    for (const [projectId, list] of groupBy(chooses, (c) => c.projectId)) {
      const siblings = await tx.siblings(projectId, [...new Set(list.map((c) => c.videoId))]);
      for (const choice of list) {
        for (const sibling of siblings.get(choice.videoId) ?? []) {
          add({ projectId, videoId: sibling, userHash: choice.userHash }, {
            type: 'passed_over', eventId: choice.eventId, occurredAtMs: Date.parse(choice.occurredAt),
          });
        }
      }
    }
  }

  private async dimsOf(tx: IngestTransaction, keys: SignalKey[]): Promise<Map<string, VideoDims>> {
    const result = new Map<string, VideoDims>();
    for (const [projectId, list] of groupBy(keys, (k) => k.projectId)) {
      const dims = await tx.videoDims(projectId, [...new Set(list.map((k) => k.videoId))]);
      for (const [videoId, d] of dims) result.set(`${projectId}|${videoId}`, d);
    }
    return result;
  }
}

/** Sums signed contributions per rollup row, so one statement applies a batch's changes. */
export class RollupAccumulator {
  private readonly rows = new Map<string, RollupDelta>();

  constructor(private readonly policyId: string) {}

  add(projectId: string, hourMs: number, dims: VideoDims, contribution: Float64Array, sign: 1 | -1): void {
    const id = `${projectId}|${hourMs}|${dims.model}|${dims.modelVersion}|${dims.category}|${dims.segment}`;
    let row = this.rows.get(id);
    if (!row) {
      row = { projectId, hourMs, ...dims, policyId: this.policyId, values: new Float64Array(ROLLUP_COUNTERS.length) };
      this.rows.set(id, row);
    }
    for (let i = 0; i < contribution.length; i++) row.values[i] += sign * contribution[i];
  }

  deltas(): RollupDelta[] {
    return [...this.rows.values()].filter((d) => d.values.some((v) => v !== 0));
  }
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
    type: e.type, eventId: e.eventId, occurredAtMs: Date.parse(e.occurredAt), watchMs: e.watchMs,
    durationMs: e.durationMs, rating: e.rating, dimension: e.dimension,
  };
}
