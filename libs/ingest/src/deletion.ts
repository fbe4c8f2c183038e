import { DeletionRow, DeletionsRepository, IngestRepository, LeftSet } from '@flywheel/database';
import { SignalPipeline, UserDeletionCounts } from './signal-pipeline';

/** What a user's deletion removed, and the preference sets it reached: the job's result and audit record. */
export interface UserDeletionResult extends UserDeletionCounts {
  /** Sets that had not left the service: queued to be rebuilt from the remaining data. */
  setsRebuilt: string[];
  /** Sets already exported or published: they cannot be recalled; each is marked as containing deleted data. */
  setsAlreadyLeft: LeftSet[];
}

export interface ProjectPurgeResult {
  /** Rows removed per table. */
  removed: Record<string, number>;
}

export interface DeletionDeps {
  ingest: IngestRepository;
  deletions: DeletionsRepository;
  pipeline: SignalPipeline;
}

/** How long a deletion's holder may stay silent before another process claims the job again. */
export const DELETION_LEASE_MS = 60_000;

/**
 * A user's deletion, in one transaction: events, signal rows and their rollup contributions (SignalPipeline.deleteUser),
 * the tombstone, and the preference sets. Either all of it is visible, or none.
 */
export function deleteUserData(deps: Pick<DeletionDeps, 'ingest' | 'pipeline'>, projectId: string, userHash: string, deletionId: string): Promise<UserDeletionResult> {
  return deps.ingest.transaction(async (tx) => {
    const counts = await deps.pipeline.deleteUser(tx, projectId, userHash);
    const sets = await tx.withdrawFromPreferenceSets(projectId, deletionId);
    return { ...counts, setsRebuilt: sets.rebuilt, setsAlreadyLeft: sets.left };
  });
}

/**
 * Claims a deletion job (`id`, or the oldest waiting / abandoned one) and runs it to `done` or `failed`, keeping its
 * heartbeat fresh meanwhile. Null when there was nothing to claim (someone else holds `id`, or it is finished).
 */
export async function runDeletion(deps: DeletionDeps, id?: string): Promise<DeletionRow | null> {
  const job = await deps.deletions.claim(DELETION_LEASE_MS, id);
  if (!job) return null;
  const heartbeat = setInterval(() => void deps.deletions.heartbeat(job.id, job.attempts).catch(() => undefined), DELETION_LEASE_MS / 4);
  try {
    const result = job.kind === 'user'
      ? await deleteUserData(deps, job.projectId, job.userHash!, job.id)
      : { removed: await deps.deletions.purgeProject(job.projectId) } satisfies ProjectPurgeResult;
    await deps.deletions.finish(job.id, job.attempts, result);
  } catch (error) {
    await deps.deletions.fail(job.id, job.attempts, (error as Error).message).catch(() => undefined);
  } finally {
    clearInterval(heartbeat);
  }
  return deps.deletions.find(job.id);
}
