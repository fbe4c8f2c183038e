import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  FeedbackEventMessage, FoldableEvent, GenerationMessage, SignalRecord, decodeFeedbackEvent, decodeGeneration,
  emptySignalRecord, foldEvent, topicNames,
} from '@flywheel/contracts';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { IngestRepository, IngestTransaction, ProjectsRepository, SignalKey, StoredSignal } from '@flywheel/database';
import { BatchOutcome, DeadLetterCandidate, KafkaMessage } from '@flywheel/kafka';
import { WorkerMetrics } from './worker-metrics';

/**
 * Turns batches of `flywheel.events.v1` and `flywheel.generations.v1` into rows, one transaction per batch:
 * events are inserted idempotently, and signal state changes only for the events that were new (invariant 2).
 */
@Injectable()
export class FeedbackEventsConsumer {
  private readonly logger = new Logger(FeedbackEventsConsumer.name);
  private readonly topics: ReturnType<typeof topicNames>;
  private readonly featureDims = new Map<string, number>();

  constructor(
    @Inject(FLYWHEEL_CONFIG) config: FlywheelConfig,
    private readonly ingest: IngestRepository,
    private readonly projects: ProjectsRepository,
    private readonly metrics: WorkerMetrics,
  ) {
    this.topics = topicNames(config.kafka.topicPrefix);
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
    const inserted = await this.ingest.transaction(async (tx) => {
      const fresh = await tx.insertEvents(events);
      const newEvents = events.filter((e) => fresh.has(`${e.projectId}|${e.eventId}`));
      await this.foldSignals(tx, newEvents);
      return newEvents.length;
    });
    this.metrics.recordEventsBatch({
      persisted: inserted,
      deduplicated: events.length - inserted + duplicatesInBatch,
      batchSize: messages.length,
      transactionSeconds: Number(process.hrtime.bigint() - started) / 1e9,
    });
    return { deadLetters };
  }

  private async foldSignals(tx: IngestTransaction, events: FeedbackEventMessage[]): Promise<void> {
    if (events.length === 0) return;
    const work = new Map<string, { key: SignalKey; events: FoldableEvent[] }>();
    const add = (key: SignalKey, event: FoldableEvent) => {
      const id = `${key.projectId}|${key.videoId}|${key.userHash}`;
      const entry = work.get(id) ?? { key, events: [] };
      entry.events.push(event);
      work.set(id, entry);
    };
    for (const e of events) add(e, toFoldable(e));
    await this.addPassedOver(tx, events, add);

    const stored = new Map<string, SignalRecord>();
    for (const s of await tx.lockSignals([...work.values()].map((w) => w.key))) {
      stored.set(`${s.projectId}|${s.videoId}|${s.userHash}`, s.record);
    }
    const updated: StoredSignal[] = [];
    for (const [id, { key, events: pending }] of work) {
      const record = stored.get(id) ?? emptySignalRecord();
      for (const event of pending) foldEvent(record, event);
      updated.push({ ...key, record });
    }
    await tx.upsertSignals(updated);
  }

  /** A `choose` marks the other candidates of the same request as passed over by that user. */
  private async addPassedOver(tx: IngestTransaction, events: FeedbackEventMessage[], add: (key: SignalKey, e: FoldableEvent) => void) {
    const chooses = events.filter((e) => e.type === 'choose');
    const byProject = new Map<string, FeedbackEventMessage[]>();
    for (const c of chooses) byProject.set(c.projectId, [...(byProject.get(c.projectId) ?? []), c]);
    for (const [projectId, list] of byProject) {
      const siblings = await tx.siblings(projectId, [...new Set(list.map((c) => c.videoId))]);
      for (const choice of list) {
        for (const sibling of siblings.get(choice.videoId) ?? []) {
          add({ projectId, videoId: sibling, userHash: choice.userHash }, {
            type: 'passed_over', eventId: choice.eventId, occurredAtMs: Date.parse(choice.occurredAt),
          });
        }
      }
    }
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
    const persisted = await this.ingest.transaction((tx) => tx.insertGenerations(valid));
    this.metrics.recordGenerations(persisted, valid.length - persisted);
    if (deadLetters.length) this.logger.warn(`generations_dead_lettered ${JSON.stringify({ count: deadLetters.length })}`);
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

function toFoldable(e: FeedbackEventMessage): FoldableEvent {
  return {
    type: e.type, eventId: e.eventId, occurredAtMs: Date.parse(e.occurredAt), watchMs: e.watchMs,
    durationMs: e.durationMs, rating: e.rating, dimension: e.dimension,
  };
}
