import { createHmac } from 'node:crypto';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { FeedbackEventInput, FeedbackEventMessage, GenerationMessage, messageKey, topicNames } from '@flywheel/contracts';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { KafkaPublisher, createKafka } from '@flywheel/kafka';
import { FlywheelError } from '@flywheel/errors';
import { ApiMetrics } from '../observability/api-metrics';
import { GenerationBatchDto } from './generation.dto';

const USER_HASH_CACHE_SIZE = 100_000;

/** Accepts batches onto Kafka; `202` is only returned after every in-sync replica acknowledged (invariant 1). */
@Injectable()
export class FeedbackService implements OnApplicationShutdown {
  private readonly publisher: KafkaPublisher;
  private readonly topics: ReturnType<typeof topicNames>;
  private readonly userHashes = new Map<string, string>();

  constructor(@Inject(FLYWHEEL_CONFIG) private readonly config: FlywheelConfig, private readonly metrics: ApiMetrics) {
    this.publisher = new KafkaPublisher(createKafka(config, 'api'), config.kafka.sendTimeoutMs);
    this.topics = topicNames(config.kafka.topicPrefix);
  }

  async acceptEvents(projectId: string, events: FeedbackEventInput[]): Promise<{ accepted: number }> {
    const receivedAt = new Date().toISOString();
    const messages = events.map((e) => {
      const message: FeedbackEventMessage = {
        v: 1, projectId, eventId: e.eventId, type: e.type, videoId: e.videoId, userHash: this.hashUser(projectId, e.userId),
        occurredAt: e.occurredAt, receivedAt, sessionId: e.sessionId, requestId: e.requestId, watchMs: e.watchMs,
        durationMs: e.durationMs, rating: e.rating, dimension: e.dimension,
      };
      return { key: messageKey(projectId, e.videoId), value: JSON.stringify(message) };
    });
    await this.publisher.send(this.topics.events, messages);
    this.metrics.eventsAccepted(messages.length);
    return { accepted: messages.length };
  }

  async acceptGenerations(projectId: string, featureDim: number, batch: GenerationBatchDto): Promise<{ accepted: number }> {
    const problems = batch.generations
      .map((g, i) => (g.features.length === featureDim ? null : {
        field: `generations[${i}].features`,
        problems: [`generations[${i}].features must have ${featureDim} values (the project's feature dimension), got ${g.features.length}`],
      }))
      .filter((p) => p !== null);
    if (problems.length) {
      throw new FlywheelError('VALIDATION_FAILED', problems[0].problems[0], { details: problems });
    }
    const receivedAt = new Date().toISOString();
    const messages = batch.generations.map((g) => {
      const message: GenerationMessage = {
        v: 1, projectId, videoId: g.videoId, requestId: g.requestId, prompt: g.prompt, model: g.model,
        modelVersion: g.modelVersion, category: g.category, segment: g.segment, durationMs: g.durationMs, uri: g.uri,
        features: g.features, createdAt: g.createdAt ?? receivedAt, receivedAt,
      };
      return { key: messageKey(projectId, g.videoId), value: JSON.stringify(message) };
    });
    await this.publisher.send(this.topics.generations, messages);
    return { accepted: messages.length };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.disconnect();
  }

  /**
   * Invariant 5: the raw user id never leaves this process. Scoped by project so ids cannot be joined across them.
   * A bounded cache saves the HMAC for the users of a busy app (the same users post batch after batch).
   */
  private hashUser(projectId: string, userId: string): string {
    const id = `${projectId}\0${userId}`;
    let hash = this.userHashes.get(id);
    if (hash === undefined) {
      hash = createHmac('sha256', this.config.userHmacKey).update(id).digest('base64url').slice(0, 32);
      if (this.userHashes.size >= USER_HASH_CACHE_SIZE) this.userHashes.clear();
      this.userHashes.set(id, hash);
    }
    return hash;
  }
}
