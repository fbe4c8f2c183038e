import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { EvidenceRepository, ModelsRepository, ProjectsRepository, TrainingJobRow } from '@flywheel/database';
import { TrainingError, TrainingRequest, trainProject } from '@flywheel/pipeline';

/**
 * Runs queued training jobs one at a time (claimed with SKIP LOCKED, so several trainers can share the queue) and,
 * with TRAINER_SCHEDULE_MINUTES, queues a run for every project on that schedule.
 */
@Injectable()
export class TrainerRunner implements OnApplicationShutdown {
  private readonly logger = new Logger(TrainerRunner.name);
  private stopping = false;
  private loop: Promise<void> | null = null;
  private lastSchedule = 0;

  constructor(
    @Inject(FLYWHEEL_CONFIG) private readonly config: FlywheelConfig,
    private readonly models: ModelsRepository,
    private readonly evidence: EvidenceRepository,
    private readonly projects: ProjectsRepository,
  ) {}

  /** Serves the queue until shutdown. */
  start(): void {
    this.loop ??= this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  /** Trains once, now, outside the queue (the CLI's `--once`). */
  async trainOnce(projectId: string, request: TrainingRequest) {
    const project = await this.projects.find(projectId);
    if (!project) throw new Error(`no project ${projectId}`);
    return trainProject({ evidence: this.evidence, models: this.models }, projectId, project.featureDim, { threads: this.config.trainer.threads, ...request });
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.schedule();
        const job = await this.models.claimJob();
        if (job) await this.execute(job);
        else await sleep(this.config.trainer.pollMs);
      } catch (error) {
        this.logger.warn(`trainer_loop_error ${JSON.stringify({ error: (error as Error).message })}`);
        await sleep(this.config.trainer.pollMs);
      }
    }
  }

  private async execute(job: TrainingJobRow): Promise<void> {
    this.logger.log(`training_started ${JSON.stringify({ jobId: job.id, projectId: job.projectId })}`);
    let lastWrite = 0;
    try {
      const project = await this.projects.find(job.projectId);
      const outcome = await trainProject(
        { evidence: this.evidence, models: this.models }, job.projectId, project!.featureDim,
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
        progress: { stage: 'done', pairs: outcome.pairs, accuracy: outcome.metrics.accuracy, promotion: outcome.promotion?.reason ?? null, seconds: outcome.seconds },
      });
      this.logger.log(`training_succeeded ${JSON.stringify({ jobId: job.id, modelId: outcome.model.id, status: outcome.model.status })}`);
    } catch (error) {
      const message = error instanceof TrainingError ? error.message : `training failed: ${(error as Error).message}`;
      await this.models.updateJob(job.id, { status: 'failed', error: message });
      this.logger.warn(`training_failed ${JSON.stringify({ jobId: job.id, error: message })}`);
    }
  }

  private async schedule(): Promise<void> {
    const minutes = this.config.trainer.scheduleMinutes;
    if (!minutes || Date.now() - this.lastSchedule < minutes * 60_000) return;
    this.lastSchedule = Date.now();
    for (const project of await this.projects.list()) await this.models.enqueueJob(project.id, { scheduled: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
