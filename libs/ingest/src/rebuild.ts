import { SignalRecord, emptySignalRecord, emptySignalState, foldEvent } from '@flywheel/contracts';
import { FlywheelError } from '@flywheel/errors';
import { FoldRow, IngestRepository, SatisfactionRepository, StoredSignal, UNATTRIBUTED } from '@flywheel/database';
import {
  SatisfactionPolicyParams, WatchQuantiles, effectiveWatchRatio, learnWatchQuantiles,
  scoreAndContribute,
} from '@flywheel/satisfaction';
import { QuantilesSource, HOUR_MS, RollupAccumulator, applyDerivedDeltas, chunkDeltas } from './signal-pipeline';

const FETCH_ROWS = 20_000;
const WRITE_ROWS = 5_000;

export interface RebuildReport {
  projectId: string;
  policyId: string;
  events: number;
  signalRows: number;
  rollupRows: number;
  quantiles: 'learned' | 'stored' | 'default';
  seconds: number;
}

/** Learns a project's watch-ratio quantiles from its signal rows and stores them for the policy. */
export async function learnQuantiles(repo: SatisfactionRepository, projectId: string, policy: SatisfactionPolicyParams, minSamplesPerBucket?: number): Promise<WatchQuantiles> {
  const samples = (await repo.watchSamples(projectId)).map((s) => ({
    durationMs: s.durationMs,
    watchRatio: effectiveWatchRatio({ ...emptySignalState(), maxWatchRatio: s.maxWatchRatio, completed: s.completed }),
  }));
  const quantiles = learnWatchQuantiles(samples, minSamplesPerBucket);
  await repo.saveQuantiles(projectId, policy.id, quantiles, samples.length);
  return quantiles;
}

/**
 * Recomputes a project's signal rows and rollups from its events table, in one transaction that holds back the
 * ingest-worker's writes of this project meanwhile (other projects' batches go on): after a policy change, a relearn
 * of the quantiles, or a backfill.
 *
 * Refused (RAW_EVENTS_EXPIRED, nothing changed) once retention has removed some of the project's raw events: the
 * signal rows and rollups still hold what those events gave, and a rebuild from what is left would erase it.
 */
export async function rebuildProject(
  ingest: IngestRepository, quantilesSource: QuantilesSource, policy: SatisfactionPolicyParams, projectId: string,
): Promise<Omit<RebuildReport, 'quantiles'>> {
  const started = Date.now();
  const quantiles = (await quantilesSource.forProjects([projectId])).get(projectId)!;
  return ingest.transaction(async (tx) => {
    await tx.lockForRebuild(projectId);
    const prunedBefore = await tx.eventsPrunedBefore(projectId);
    if (prunedBefore) {
      throw new FlywheelError(
        'RAW_EVENTS_EXPIRED',
        `project ${projectId}: raw events older than ${prunedBefore.toISOString()} were removed by its retention; a rebuild from the stored events would lose the signals they gave, so signal rows and rollups are kept as they are`,
        { details: { projectId, eventsPrunedBefore: prunedBefore.toISOString() } },
      );
    }
    await tx.clearDerived(projectId);
    const dims = await tx.allVideoDims(projectId);
    const rollups = new RollupAccumulator(policy.id);
    let pending: StoredSignal[] = [];
    let events = 0;
    let signalRows = 0;
    let current: { videoId: string; userHash: string; record: SignalRecord } | null = null;

    const finish = async (force: boolean) => {
      if (current) {
        const { satisfaction, contribution } = scoreAndContribute(current.record, policy, quantiles);
        const hourMs = Math.floor(current.record.firstEventAt! / HOUR_MS) * HOUR_MS;
        const videoDims = dims.get(current.videoId);
        rollups.add({ projectId, videoId: current.videoId, userHash: current.userHash }, hourMs, videoDims ?? UNATTRIBUTED, contribution, 1, current.record.dimensionRatings);
        pending.push({ projectId, videoId: current.videoId, userHash: current.userHash, record: current.record,
          rollup: { satisfaction, policyId: policy.id, hourMs, attributed: videoDims !== undefined } });
        signalRows++;
        current = null;
      }
      if (pending.length >= WRITE_ROWS || (force && pending.length)) {
        await tx.upsertSignals(pending);
        pending = [];
      }
    };

    await tx.openFoldCursor(projectId);
    for (;;) {
      const rows: FoldRow[] = await tx.fetchFoldCursor(FETCH_ROWS);
      if (rows.length === 0) break;
      for (const row of rows) {
        if (!current || current.videoId !== row.videoId || current.userHash !== row.userHash) {
          await finish(false);
          current = { videoId: row.videoId, userHash: row.userHash, record: emptySignalRecord() };
        }
        foldEvent(current.record, row);
        if (row.type !== 'passed_over') events++;
      }
    }
    await finish(true);
    const deltas = rollups.deltas();
    for (const chunk of chunkDeltas(deltas, WRITE_ROWS)) await applyDerivedDeltas(tx, chunk);
    return { projectId, policyId: policy.id, events, signalRows, rollupRows: deltas.rollups.length, seconds: (Date.now() - started) / 1000 };
  });
}
