import { Inject, Injectable, Logger } from '@nestjs/common';
import { FeedbackEventMessage, GenerationMessage, decodeFeedbackEvent, decodeGeneration, topicNames } from '@flywheel/contracts';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { IngestRepository, ProjectsRepository, SatisfactionRepository } from '@flywheel/database';
import { CachedQuantiles, SignalPipeline } from '@flywheel/ingest';
import { CURRENT_POLICY } from '@flywheel/satisfaction';
import { BatchOutcome, DeadLetterCandidate, KafkaMessage } from '@flywheel/kafka';
import { WorkerMetrics } from './worker-metrics';

/**
 * The batch handler BatchConsumer calls for both of the worker's topics. Turns batches of `flywheel.events.v1` and `flywheel.generations.v1` into rows, one transaction per batch:
 * events are inserted idempotently, and signal state and rollups change only for the events that were new
 * (invariant 2).
 */
@Injectable()
export class IngestBatchHandler {
  private readonly logger = new Logger(IngestBatchHandler.name);
  private readonly topics: ReturnType<typeof topicNames>;
  private readonly featureDims = new Map<string, number>();
  private readonly pipeline: SignalPipeline;

  constructor(
    @Inject(FLYWHEEL_CONFIG) config: FlywheelConfig,
    private readonly ingest: IngestRepository,
    private readonly projects: ProjectsRepository,
    private readonly metrics: WorkerMetrics,
    satisfaction: SatisfactionRepository,
  ) {
    this.topics = topicNames(config.kafka.topicPrefix);
    this.pipeline = new SignalPipeline(CURRENT_POLICY, new CachedQuantiles(satisfaction, CURRENT_POLICY.id));
  }

  handle(topic: string, partition: number, messages: KafkaMessage[]): Promise<BatchOutcome> {
    if (topic === this.topics.events) return this.handleEvents(messages);
    if (topic === this.topics.generations) return this.handleGenerations(messages);
    return Promise.resolve({ deadLetters: messages.map((message) => ({ message, reason: `unexpected topic ${topic}` })) });
  }

  private async handleEvents(messages: KafkaMessage[]): Promise<BatchOutcome> {
    const deadLetters: DeadLetterCandidate[] = [];
    const decoded: { message: KafkaMessage; value: FeedbackEventMessage }[] = [];
    const seen = new Set<string>();
    let duplicatesInBatch = 0;
    for (const message of messages) {
      const result = decodeFeedbackEvent(message.value);
      if (!result.ok) {
        deadLetters.push({ message, reason: result.reason });
        continue;
      }
      const id = `${result.value.projectId}|${result.value.eventId}`;
      if (seen.has(id)) {
        duplicatesInBatch++;
        continue;
      }
      seen.add(id);
      decoded.push({ message, value: result.value });
    }
    const known = await this.knownProjects(decoded.map((d) => d.value.projectId));
    const events: FeedbackEventMessage[] = [];
    for (const { message, value } of decoded) {
      if (known.has(value.projectId)) events.push(value);
      else deadLetters.push({ message, reason: `unknown project ${value.projectId}` });
    }
    const started = process.hrtime.bigint();
    const outcome = await this.ingest.transaction((tx) => this.pipeline.ingestEvents(tx, events));
    this.metrics.recordEventsBatch({
      persisted: outcome.persisted,
      deduplicated: events.length - outcome.persisted - outcome.dropped - outcome.refused.length + duplicatesInBatch,
      droppedDeleted: outcome.dropped,
      batchSize: messages.length,
      transactionSeconds: Number(process.hrtime.bigint() - started) / 1e9,
    });
    if (outcome.dropped) this.logger.log({ msg: 'events_of_deleted_users_dropped', count: outcome.dropped });
    deadLetters.push(...refusedMessages(decoded, outcome.refused));
    return { deadLetters };
  }

  private async handleGenerations(messages: KafkaMessage[]): Promise<BatchOutcome> {
    const deadLetters: DeadLetterCandidate[] = [];
    const decoded: { message: KafkaMessage; value: GenerationMessage }[] = [];
    for (const message of messages) {
      const result = decodeGeneration(message.value);
      if (result.ok) decoded.push({ message, value: result.value });
      else deadLetters.push({ message, reason: result.reason });
    }
    const known = await this.knownProjects(decoded.map((d) => d.value.projectId));
    const valid: GenerationMessage[] = [];
    for (const { message, value } of decoded) {
      const dim = known.get(value.projectId);
      if (dim === undefined) deadLetters.push({ message, reason: `unknown project ${value.projectId}` });
      else if (value.features.length !== dim) {
        deadLetters.push({ message, reason: `features has ${value.features.length} values; project expects ${dim}` });
      } else valid.push(value);
    }
    const outcome = await this.ingest.transaction((tx) => this.pipeline.ingestGenerations(tx, valid));
    this.metrics.recordGenerations(outcome.persisted, valid.length - outcome.persisted - outcome.refused.length);
    deadLetters.push(...refusedMessages(decoded, outcome.refused));
    if (deadLetters.length) this.logger.warn({ msg: 'generations_dead_lettered', count: deadLetters.length });
    return { deadLetters };
  }

  /** Feature dimension per known project; unknown ids are looked up again next time (a project may be new). */
  private async knownProjects(projectIds: string[]): Promise<Map<string, number>> {
    const missing = [...new Set(projectIds)].filter((id) => !this.featureDims.has(id));
    if (missing.length) {
      for (const [id, dim] of await this.projects.featureDims(missing)) this.featureDims.set(id, dim);
    }
    return this.featureDims;
  }
}

/** The messages of the values a batch refused because their project was deleted, with that reason. */
function refusedMessages<T extends { projectId: string }>(decoded: { message: KafkaMessage; value: T }[], refused: T[]): DeadLetterCandidate[] {
  if (refused.length === 0) return [];
  const values = new Set<T>(refused);
  return decoded.filter((d) => values.has(d.value))
    .map(({ message, value }) => ({ message, reason: `project ${value.projectId} was deleted` }));
}
