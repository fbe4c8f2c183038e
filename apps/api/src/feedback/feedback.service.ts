import { Inject, Injectable } from '@nestjs/common';
import {
  FeedbackEventInput, messageKey, parseGenerationBatch, toEventMessage, toGenerationMessage, topicNames, undeclaredDimensions,
} from '@flywheel/contracts';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { KafkaPublisher } from '@flywheel/kafka';
import { validationFailed } from '../errors/validation';
import { ApiMetrics } from '../observability/api-metrics';
import { hashUserId } from './user-hash';

const USER_HASH_CACHE_SIZE = 100_000;

/** Accepts batches onto Kafka; `202` is only returned after every in-sync replica acknowledged (invariant 1). */
@Injectable()
export class FeedbackService {
  private readonly topics: ReturnType<typeof topicNames>;
  private readonly userHashes = new Map<string, string>();

  constructor(
    @Inject(FLYWHEEL_CONFIG) private readonly config: FlywheelConfig,
    private readonly metrics: ApiMetrics,
    private readonly publisher: KafkaPublisher,
  ) {
    this.topics = topicNames(config.kafka.topicPrefix);
  }

  async acceptEvents(projectId: string, ratingDimensions: readonly string[], events: FeedbackEventInput[]): Promise<{ accepted: number }> {
    // A rating for a dimension the project did not declare is refused, never stored to be silently ignored.
    const undeclared = undeclaredDimensions(events, ratingDimensions);
    if (undeclared.length) throw validationFailed(undeclared);
    const receivedAt = new Date().toISOString();
    const messages = events.map((e) => ({
      key: messageKey(projectId, e.videoId),
      value: JSON.stringify(toEventMessage(projectId, e, this.hashUser(projectId, e.userId), receivedAt)),
    }));
    await this.publisher.send(this.topics.events, messages);
    this.metrics.eventsAccepted(messages.length);
    return { accepted: messages.length };
  }

  /** Validates with the contract's rules for this project's feature dimension, then produces like acceptEvents. */
  async acceptGenerations(projectId: string, featureDim: number, body: unknown): Promise<{ accepted: number }> {
    const parsed = parseGenerationBatch(body, featureDim);
    if (!parsed.ok) throw validationFailed(parsed.problems);
    const receivedAt = new Date().toISOString();
    const messages = parsed.generations.map((g) => ({
      key: messageKey(projectId, g.videoId), value: JSON.stringify(toGenerationMessage(projectId, g, receivedAt)),
    }));
    await this.publisher.send(this.topics.generations, messages);
    return { accepted: messages.length };
  }

  /**
   * Invariant 5: the raw user id never leaves this process. Scoped by project so ids cannot be joined across them.
   * A bounded cache saves the HMAC for the users of a busy app (the same users post batch after batch).
   */
  private hashUser(projectId: string, userId: string): string {
    const id = `${projectId}\0${userId}`;
    let hash = this.userHashes.get(id);
    if (hash === undefined) {
      hash = hashUserId(this.config.userHmacKey, projectId, userId);
      if (this.userHashes.size >= USER_HASH_CACHE_SIZE) this.userHashes.clear();
      this.userHashes.set(id, hash);
    }
    return hash;
  }
}
