import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import {
  ClaimedJob, ClaimedSet, DeletionsRepository, EventPartitions, EvidenceRepository, IngestRepository, ModelsRepository, PreferenceSetsRepository,
  ProjectsRepository, SatisfactionRepository,
} from '@flywheel/database';
import { CachedQuantiles, DeletionDeps, SignalPipeline, runDeletion } from '@flywheel/ingest';
import { CURRENT_POLICY } from '@flywheel/satisfaction';
import { LostClaimError, PreferenceSetRequest, buildPreferenceSet } from '@flywheel/preference-sets';
import { TrainingError, TrainingRequest, trainProject } from '@flywheel/training';
import { FlywheelError, describeFailure } from '@flywheel/errors';
import { MAX_ATTEMPTS, exponentialBackoff, sleep, withAttempts } from './attempts';
import { SetPublisher } from './set-publisher';

/**
 * A set whose builds were claimed this many times without finishing (each trainer stopped mid-build, or gave it
 * back after transient failures) is failed rather than tried again.
 */
export const MAX_SET_BUILD_ATTEMPTS = 3;
/** The same bound for a training job: claims that did not finish it (trainers that died, or gave it back). */
export const MAX_TRAINING_CLAIMS = 3;

/**
 * Serves four queues, one item at a time, all claimed with SKIP LOCKED so several trainers can share them: data
 * deletions first (the api runs the ones it queues itself; here are those it left queued or abandoned), then queued
 * preference-set builds (a user waits on them), then publications of sets to Kafka (SetPublisher), then training
 * jobs; and, with TRAINER_SCHEDULE_MINUTES, queues a training run for every project on that schedule. Every
 * EVENTS_MAINTENANCE_MINUTES it also runs the maintenance of feedback_events' time partitions (EventPartitions:
 * partitions ahead, retention; one trainer at a time). A set build holds a lease it renews (heartbeat); another
 * trainer takes over a build whose lease ran out (TRAINER_SET_LEASE_MS). A training job likewise
 * (TRAINER_JOB_LEASE_MS, longer: a model's fit is synchronous and sends no heartbeat until it returns).
 *
 * Failures are classified once (`classifyFailure`, shared with the ingest-worker and the api): a permanent one
 * (bad data, a PostgreSQL data or integrity error, not enough pairs) fails the job or set at once with the reason; a
 * transient or unknown one is tried again, MAX_ATTEMPTS in all with backoff; then a transient one gives the item
 * back to the queue (a dependency is down: the work is not at fault) and an unknown one fails it with the reason.
 */
@Injectable()
export class TrainerRunner implements OnApplicationShutdown {
  private readonly logger = new Logger(TrainerRunner.name);
  private stopping = false;
  private loop: Promise<void> | null = null;
  private lastSchedule = 0;
  private lastMaintenance = 0;
  private readonly deletionDeps: DeletionDeps;

  constructor(
    @Inject(FLYWHEEL_CONFIG) private readonly config: FlywheelConfig,
    private readonly models: ModelsRepository,
    private readonly evidence: EvidenceRepository,
    private readonly projects: ProjectsRepository,
    private readonly sets: PreferenceSetsRepository,
    private readonly satisfaction: SatisfactionRepository,
    private readonly publisher: SetPublisher,
    private readonly partitions: EventPartitions,
    deletions: DeletionsRepository,
    ingest: IngestRepository,
  ) {
    this.deletionDeps = { deletions, ingest, pipeline: new SignalPipeline(CURRENT_POLICY, new CachedQuantiles(satisfaction, CURRENT_POLICY.id)) };
  }

  /** Serves the queue until shutdown. */
  start(): void {
    this.loop ??= this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.loop;
    await this.publisher.close();
  }

  /** Trains once, now, outside the queue (the CLI's `--once`). */
  async trainOnce(projectId: string, request: TrainingRequest) {
    const project = await this.projects.find(projectId);
    if (!project) throw new Error(`no project ${projectId}`);
    return trainProject({ evidence: this.evidence, models: this.models, sets: this.sets }, projectId, project, { threads: this.config.trainer.threads, ...request });
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.schedule();
        await this.maintainEvents();
        const deletion = await runDeletion(this.deletionDeps);
        if (deletion) {
          this.logger.log({ msg: 'deletion_finished', jobId: deletion.id, kind: deletion.kind, status: deletion.status });
          continue;
        }
        const set = await this.sets.claimBuild(this.config.trainer.setLeaseMs);
        if (set) {
          await this.buildSet(set);
          continue;
        }
        if (await this.publisher.publishNext()) continue;
        const job = await this.models.claimJob(this.config.trainer.jobLeaseMs);
        if (job) await this.execute(job);
        else await sleep(this.config.trainer.pollMs);
      } catch (error) {
        this.logger.warn({ msg: 'trainer_loop_error', err: error });
        await sleep(this.config.trainer.pollMs);
      }
    }
  }

  private async execute(job: ClaimedJob): Promise<void> {
    const fields = { jobId: job.id, projectId: job.projectId, attempt: job.attempts };
    if (job.attempts > MAX_TRAINING_CLAIMS) {
      const reason = `training abandoned: ${MAX_TRAINING_CLAIMS} claims stopped without finishing (${job.error ? `last error: ${job.error}` : 'the trainer died each time; see its logs'})`;
      await this.untilDone(() => this.models.updateJob(job.id, job.attempts, { status: 'failed', error: reason }));
      this.logger.warn({ msg: 'training_failed', ...fields, reason });
      return;
    }
    this.logger.log({ msg: 'training_started', ...fields });
    let lastWrite = 0;
    let held = true;
    // Renews the lease whenever the event loop is free (loading pairs, between models, evaluating, promoting).
    const heartbeat = setInterval(() => {
      this.models.heartbeatJob(job.id, job.attempts).then((still) => { held &&= still; }, () => undefined);
    }, Math.max(250, Math.floor(this.config.trainer.jobLeaseMs / 4)));
    try {
      const outcome = await withAttempts(async () => {
        const project = await this.projects.find(job.projectId);
        if (!project) throw new FlywheelError('NOT_FOUND', `project ${job.projectId} is gone`);
        return trainProject(
          { evidence: this.evidence, models: this.models, sets: this.sets }, job.projectId, project,
          { threads: this.config.trainer.threads, ...(job.options as TrainingRequest) },
          (progress) => {
            const now = Date.now();
            if (now - lastWrite > 1000) {
              lastWrite = now;
              void this.models.updateJob(job.id, job.attempts, { progress }).then((still) => { held &&= still; }, () => undefined);
            }
          },
        );
      }, this.attemptOptions((error, attempt, failure) => this.logger.warn({ msg: 'training_retry', ...fields, attempt, failure, err: error })));
      if (!held) {
        // Another trainer took the job over (this one's lease ran out): its outcome is the job's, not this one's.
        this.logger.warn({ msg: 'training_taken_over', ...fields });
        return;
      }
      if (outcome.ok) {
        const { value } = outcome;
        await this.untilDone(() => this.models.updateJob(job.id, job.attempts, {
          status: 'succeeded', modelId: value.model.id,
          progress: { stage: 'done', pairs: value.pairs, accuracy: value.metrics.accuracy, promotion: value.promotion?.reason ?? null, reproduced: value.reproduced, seconds: value.seconds },
        }));
        this.logger.log({ msg: 'training_succeeded', ...fields, modelId: value.model.id, status: value.model.status });
        return;
      }
      const { error, failure, attempts } = outcome;
      if (failure === 'transient') {
        const reason = `waiting to retry after ${attempts} attempts: ${describeFailure(error)}`;
        await this.untilDone(() => this.models.requeueJob(job.id, reason, job.attempts));
        this.logger.warn({ msg: 'training_requeued', ...fields, attempts, err: error });
        return;
      }
      const message = error instanceof TrainingError ? error.message : `training failed after ${attempts} attempt${attempts > 1 ? 's' : ''}: ${describeFailure(error)}`;
      await this.untilDone(() => this.models.updateJob(job.id, job.attempts, { status: 'failed', error: message }));
      this.logger.warn({ msg: 'training_failed', ...fields, failure, attempts, reason: message, err: error });
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async buildSet(set: ClaimedSet): Promise<void> {
    if (set.attempts > MAX_SET_BUILD_ATTEMPTS) {
      const reason = `build abandoned: ${MAX_SET_BUILD_ATTEMPTS} attempts stopped without finishing (${set.error ? `last error: ${set.error}` : 'the trainer died each time; see its logs'})`;
      await this.sets.fail(set.id, reason, set.attempts);
      this.logger.warn({ msg: 'preference_set_failed', setId: set.id, reason });
      return;
    }
    const fields = { setId: set.id, attempt: set.attempts };
    this.logger.log({ msg: 'preference_set_building', ...fields });
    let held = true;
    const heartbeat = setInterval(() => {
      this.sets.heartbeat(set.id, set.attempts).then((still) => { held &&= still; }, () => undefined);
    }, Math.max(250, Math.floor(this.config.trainer.setLeaseMs / 4)));
    try {
      const outcome = await withAttempts(() => buildPreferenceSet(
        { evidence: this.evidence, sets: this.sets, models: this.models, satisfaction: this.satisfaction },
        set, set.filters as PreferenceSetRequest, () => held,
      ), this.attemptOptions((error, retry, failure) => this.logger.warn({ msg: 'preference_set_retry', ...fields, retry, failure, err: error })));
      if (outcome.ok) {
        this.logger.log({ msg: 'preference_set_ready', ...fields, counts: (outcome.value as { counts: unknown }).counts });
        return;
      }
      const { error, failure, attempts } = outcome;
      if (error instanceof LostClaimError) {
        this.logger.warn({ msg: 'preference_set_taken_over', ...fields, reason: error.message });
      } else if (failure === 'transient') {
        // Back to the queue without its rows; the next claim is attempt n + 1, so the releases are bounded too.
        await this.sets.release(set.id, `waiting to retry after ${attempts} tries: ${describeFailure(error)}`, set.attempts).catch(() => undefined);
        this.logger.warn({ msg: 'preference_set_released', ...fields, tries: attempts, err: error });
      } else {
        const reason = `build failed after ${attempts} tr${attempts > 1 ? 'ies' : 'y'}: ${describeFailure(error)}`;
        await this.sets.fail(set.id, reason, set.attempts).catch(() => undefined);
        this.logger.warn({ msg: 'preference_set_failed', ...fields, failure, reason, err: error });
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  private attemptOptions(onRetry: Parameters<typeof withAttempts>[1]['onRetry']) {
    return { attempts: MAX_ATTEMPTS, backoffMs: exponentialBackoff(this.config.trainer.pollMs), stopping: () => this.stopping, onRetry };
  }

  /** Writes a job's end state, retrying while the database is unavailable; gives up only when the trainer stops. */
  private async untilDone(write: () => Promise<unknown>): Promise<void> {
    const backoff = exponentialBackoff(this.config.trainer.pollMs);
    for (let attempt = 1; ; attempt++) {
      try {
        await write();
        return;
      } catch (error) {
        if (this.stopping) {
          this.logger.warn({ msg: 'trainer_state_write_abandoned', err: error });
          return;
        }
        await sleep(backoff(attempt));
      }
    }
  }

  private async schedule(): Promise<void> {
    const minutes = this.config.trainer.scheduleMinutes;
    if (!minutes || Date.now() - this.lastSchedule < minutes * 60_000) return;
    this.lastSchedule = Date.now();
    for (const project of await this.projects.list()) await this.models.enqueueJob(project.id, { scheduled: true });
  }

  /** Partitions ahead and retention, when due. A failure (say a lock timeout) is logged and retried next time. */
  private async maintainEvents(): Promise<void> {
    const minutes = this.config.trainer.eventMaintenanceMinutes;
    if (!minutes || Date.now() - this.lastMaintenance < minutes * 60_000) return;
    this.lastMaintenance = Date.now();
    try {
      const report = await this.partitions.maintain(new Date(), {
        period: this.config.events.partitionPeriod, aheadDays: this.config.events.partitionsAheadDays,
      });
      if (report.created.length || report.dropped.length || report.deleted.length || report.movedFromDefault) {
        this.logger.log({ msg: 'event_partitions_maintained', ...report });
      }
    } catch (error) {
      this.logger.warn({ msg: 'event_partitions_maintenance_failed', err: error });
    }
  }
}
