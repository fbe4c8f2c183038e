import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import {
  ClaimedSet, EventPartitions, EvidenceRepository, ModelsRepository, PreferenceSetsRepository, ProjectsRepository, SatisfactionRepository,
  TrainingJobRow,
} from '@flywheel/database';
import { LostClaimError, PreferenceSetRequest, buildPreferenceSet } from '@flywheel/preference-sets';
import { TrainingError, TrainingRequest, trainProject } from '@flywheel/training';
import { SetPublisher } from './set-publisher';

/** A set whose builds died this many times (each trainer stopped mid-build) is failed rather than tried again. */
export const MAX_SET_BUILD_ATTEMPTS = 3;

/**
 * Serves three queues, one item at a time, all claimed with SKIP LOCKED so several trainers can share them: queued
 * preference-set builds first (a user waits on them), then publications of sets to Kafka (SetPublisher), then
 * training jobs; and, with TRAINER_SCHEDULE_MINUTES, queues a training run for every project on that schedule. Every
 * EVENTS_MAINTENANCE_MINUTES it also runs the maintenance of feedback_events' time partitions (EventPartitions:
 * partitions ahead, retention; one trainer at a time). A set build holds a lease it renews (heartbeat); another
 * trainer takes over a build whose lease ran out (TRAINER_SET_LEASE_MS).
 */
@Injectable()
export class TrainerRunner implements OnApplicationShutdown {
  private readonly logger = new Logger(TrainerRunner.name);
  private stopping = false;
  private loop: Promise<void> | null = null;
  private lastSchedule = 0;
  private lastMaintenance = 0;

  constructor(
    @Inject(FLYWHEEL_CONFIG) private readonly config: FlywheelConfig,
    private readonly models: ModelsRepository,
    private readonly evidence: EvidenceRepository,
    private readonly projects: ProjectsRepository,
    private readonly sets: PreferenceSetsRepository,
    private readonly satisfaction: SatisfactionRepository,
    private readonly publisher: SetPublisher,
    private readonly partitions: EventPartitions,
  ) {}

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
        const set = await this.sets.claimBuild(this.config.trainer.setLeaseMs);
        if (set) {
          await this.buildSet(set);
          continue;
        }
        if (await this.publisher.publishNext()) continue;
        const job = await this.models.claimJob();
        if (job) await this.execute(job);
        else await sleep(this.config.trainer.pollMs);
      } catch (error) {
        this.logger.warn({ msg: 'trainer_loop_error', err: error });
        await sleep(this.config.trainer.pollMs);
      }
    }
  }

  private async execute(job: TrainingJobRow): Promise<void> {
    this.logger.log({ msg: 'training_started', jobId: job.id, projectId: job.projectId });
    let lastWrite = 0;
    try {
      const project = await this.projects.find(job.projectId);
      const outcome = await trainProject(
        { evidence: this.evidence, models: this.models, sets: this.sets }, job.projectId, project!,
        { threads: this.config.trainer.threads, ...(job.options as TrainingRequest) },
        (progress) => {
          const now = Date.now();
          if (now - lastWrite > 1000) {
            lastWrite = now;
            void this.models.updateJob(job.id, { progress });
          }
        },
      );
      await this.models.updateJob(job.id, {
        status: 'succeeded', modelId: outcome.model.id,
        progress: { stage: 'done', pairs: outcome.pairs, accuracy: outcome.metrics.accuracy, promotion: outcome.promotion?.reason ?? null, reproduced: outcome.reproduced, seconds: outcome.seconds },
      });
      this.logger.log({ msg: 'training_succeeded', jobId: job.id, modelId: outcome.model.id, status: outcome.model.status });
    } catch (error) {
      const message = error instanceof TrainingError ? error.message : `training failed: ${(error as Error).message}`;
      await this.models.updateJob(job.id, { status: 'failed', error: message });
      this.logger.warn({ msg: 'training_failed', jobId: job.id, reason: message, err: error });
    }
  }

  private async buildSet(set: ClaimedSet): Promise<void> {
    if (set.attempts > MAX_SET_BUILD_ATTEMPTS) {
      const reason = `build abandoned: ${MAX_SET_BUILD_ATTEMPTS} attempts stopped without finishing (the trainer died each time; see its logs)`;
      await this.sets.fail(set.id, reason, set.attempts);
      this.logger.warn({ msg: 'preference_set_failed', setId: set.id, reason });
      return;
    }
    this.logger.log({ msg: 'preference_set_building', setId: set.id, attempt: set.attempts });
    let held = true;
    const heartbeat = setInterval(() => {
      this.sets.heartbeat(set.id, set.attempts).then((still) => { held &&= still; }, () => undefined);
    }, Math.max(250, Math.floor(this.config.trainer.setLeaseMs / 4)));
    try {
      const manifest = await buildPreferenceSet(
        { evidence: this.evidence, sets: this.sets, models: this.models, satisfaction: this.satisfaction },
        set, set.filters as PreferenceSetRequest, () => held,
      );
      this.logger.log({ msg: 'preference_set_ready', setId: set.id, counts: (manifest as { counts: unknown }).counts });
    } catch (error) {
      if (error instanceof LostClaimError) {
        this.logger.warn({ msg: 'preference_set_taken_over', setId: set.id, reason: error.message });
      } else {
        const message = (error as Error).message;
        await this.sets.fail(set.id, message, set.attempts).catch(() => undefined);
        this.logger.warn({ msg: 'preference_set_failed', setId: set.id, err: error });
      }
    } finally {
      clearInterval(heartbeat);
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
