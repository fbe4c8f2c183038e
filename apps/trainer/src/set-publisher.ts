import { Logger } from '@nestjs/common';
import { FlywheelConfig } from '@flywheel/config';
import { classifyFailure, describeFailure } from '@flywheel/errors';
import { ClaimedPublication, PreferencePublicationsRepository, PreferenceSetsRepository } from '@flywheel/database';
import { LostClaimError, MessageSink, publishPreferenceSet } from '@flywheel/preference-sets';

/** A publication whose claims keep failing or dying is failed after this many; asking again resumes it. */
export const MAX_PUBLICATION_ATTEMPTS = 5;

/**
 * The trainer's side of the publication queue: claims a queued publication (or one whose trainer died: its lease,
 * TRAINER_SET_LEASE_MS, ran out), renews the lease while it publishes, and continues from the last batch Kafka
 * acknowledged. A permanent failure fails it at once with the reason; any other gives the publication back to the
 * queue with its progress, until MAX_PUBLICATION_ATTEMPTS.
 */
export class SetPublisher {
  private readonly logger = new Logger(SetPublisher.name);

  constructor(
    private readonly config: FlywheelConfig,
    private readonly sets: PreferenceSetsRepository,
    private readonly publications: PreferencePublicationsRepository,
    private readonly sink: MessageSink & { disconnect(): Promise<void> },
  ) {}

  /** Claims and publishes one waiting publication; false when none was waiting. */
  async publishNext(): Promise<boolean> {
    const job = await this.publications.claim(this.config.trainer.setLeaseMs);
    if (!job) return false;
    await this.publish(job);
    return true;
  }

  async close(): Promise<void> {
    await this.sink.disconnect();
  }

  private async publish(job: ClaimedPublication): Promise<void> {
    const fields = { publicationId: job.id, setId: job.setId, attempt: job.attempts };
    if (job.attempts > MAX_PUBLICATION_ATTEMPTS) {
      const reason = `publication abandoned after ${MAX_PUBLICATION_ATTEMPTS} attempts (last error: ${job.error ?? 'the trainer stopped each time'}); publish again to resume it`;
      await this.publications.fail(job.id, job.attempts, reason);
      this.logger.warn({ msg: 'publication_failed', ...fields, reason });
      return;
    }
    this.logger.log({ msg: 'publication_started', ...fields, resumeAfterPairSeq: job.pairSeqAcked, resumeAfterRankingSeq: job.rankingSeqAcked });
    const heartbeat = setInterval(() => {
      this.publications.heartbeat(job.id, job.attempts).catch(() => undefined);
    }, Math.max(250, Math.floor(this.config.trainer.setLeaseMs / 4)));
    try {
      const set = await this.sets.get(job.setId);
      if (set?.status !== 'ready') {
        await this.publications.fail(job.id, job.attempts, `preference set ${job.setId} is ${set?.status ?? 'gone'}`);
        return;
      }
      const messages = await publishPreferenceSet({ sets: this.sets, publications: this.publications }, this.sink, job, set);
      this.logger.log({ msg: 'publication_done', ...fields, messages, topic: job.topic });
    } catch (error) {
      if (error instanceof LostClaimError) {
        this.logger.warn({ msg: 'publication_taken_over', ...fields, reason: error.message });
      } else {
        // A permanent failure (classifyFailure: the same input fails again) ends it now; any other goes back to
        // the queue with its progress until MAX_PUBLICATION_ATTEMPTS.
        const message = describeFailure(error);
        const failure = classifyFailure(error);
        const giveUp = failure === 'permanent' || job.attempts >= MAX_PUBLICATION_ATTEMPTS;
        await (giveUp ? this.publications.fail(job.id, job.attempts, message) : this.publications.release(job.id, job.attempts, message)).catch(() => undefined);
        this.logger.warn({ msg: giveUp ? 'publication_failed' : 'publication_retry', ...fields, failure, err: error });
      }
    } finally {
      clearInterval(heartbeat);
    }
  }
}
