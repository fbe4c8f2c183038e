import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { DeletionRow, DeletionsRepository, IngestRepository, KeyOwner, SatisfactionRepository } from '@flywheel/database';
import { FlywheelError } from '@flywheel/errors';
import { CachedQuantiles, DeletionDeps, SignalPipeline, runDeletion } from '@flywheel/ingest';
import { CURRENT_POLICY } from '@flywheel/satisfaction';
import { hashUserId } from '../feedback/user-hash';

/** How long a request waits for its deletion before answering 202 with the job to poll. */
export const DELETION_INLINE_WAIT_MS = 2_000;

/** A deletion as the API shows it (the audit record: who, what, when; never a user id, raw or hashed). */
export interface DeletionView {
  jobId: string;
  kind: DeletionRow['kind'];
  projectId: string;
  status: DeletionRow['status'];
  requestedBy: string;
  requestedAt: Date;
  finishedAt: Date | null;
  result: Record<string, unknown> | null;
  error: string | null;
}

/**
 * Deletions (a user's data, a whole project) are jobs in PostgreSQL (data_deletions). This process starts the job it
 * just queued at once and answers with its result if it is done within DELETION_INLINE_WAIT_MS, else 202 with the job
 * id to poll; the trainer claims any job left queued or abandoned (this process stopped), so a deletion always ends.
 */
@Injectable()
export class DeletionsService implements OnApplicationShutdown {
  private readonly logger = new Logger(DeletionsService.name);
  private readonly deps: DeletionDeps;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    @Inject(FLYWHEEL_CONFIG) private readonly config: FlywheelConfig,
    private readonly deletions: DeletionsRepository,
    ingest: IngestRepository,
    satisfaction: SatisfactionRepository,
  ) {
    this.deps = { ingest, deletions, pipeline: new SignalPipeline(CURRENT_POLICY, new CachedQuantiles(satisfaction, CURRENT_POLICY.id)) };
  }

  async deleteUser(key: KeyOwner, userId: string): Promise<DeletionView> {
    const job = await this.deletions.requestUser(key.projectId, hashUserId(this.config.userHmacKey, key.projectId, userId), `key:${key.keyId}`);
    this.logger.log({ msg: 'user_deletion_requested', jobId: job.id, projectId: key.projectId, keyId: key.keyId });
    return this.runAndWait(job);
  }

  /** Deletes the project (its keys answer 410 from now on) and purges its data; null if there is no such project. */
  async deleteProject(projectId: string): Promise<DeletionView | null> {
    const requested = await this.deletions.requestProject(projectId, 'admin');
    if (!requested) return null;
    this.logger.log({ msg: 'project_deletion_requested', jobId: requested.deletion.id, projectId, created: requested.created });
    return requested.deletion.status === 'queued' ? this.runAndWait(requested.deletion) : deletionView(requested.deletion);
  }

  async find(id: string, projectId?: string): Promise<DeletionView> {
    const job = await this.deletions.find(id, projectId);
    if (!job) throw new FlywheelError('NOT_FOUND', `no deletion ${id}${projectId ? ' in this project' : ''}`);
    return deletionView(job);
  }

  async list(projectId: string): Promise<DeletionView[]> {
    return (await this.deletions.list(projectId)).map(deletionView);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  private async runAndWait(job: DeletionRow): Promise<DeletionView> {
    const run = runDeletion(this.deps, job.id).catch((error) => {
      this.logger.warn({ msg: 'deletion_run_failed', jobId: job.id, err: error });
      return null;
    });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([run, new Promise((resolve) => { timer = setTimeout(resolve, DELETION_INLINE_WAIT_MS); })]);
    clearTimeout(timer);
    return this.find(job.id);
  }
}

export function deletionView(d: DeletionRow): DeletionView {
  return {
    jobId: d.id, kind: d.kind, projectId: d.projectId, status: d.status, requestedBy: d.requestedBy, requestedAt: d.createdAt,
    finishedAt: d.finishedAt, result: d.result, error: d.error,
  };
}
