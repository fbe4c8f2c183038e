import { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { DeadLetter } from '@flywheel/contracts';
import { KafkaPublisher } from './publisher';

export interface DeadLetterCandidate {
  message: KafkaMessage;
  reason: string;
}

export interface BatchOutcome {
  /** Messages that can never be processed; they go to `<topic>.dlq` before the offsets move. */
  deadLetters: DeadLetterCandidate[];
}

export type BatchHandler = (topic: string, partition: number, messages: KafkaMessage[]) => Promise<BatchOutcome>;

export interface BatchConsumerOptions {
  groupId: string;
  topics: string[];
  partitionsConsumedConcurrently: number;
  maxBytesPerPartition: number;
  sessionTimeoutMs: number;
  /** Called on every failed attempt of a batch (transient: database or broker unavailable). */
  onRetry?: (error: Error, attempt: number, topic: string, partition: number) => void;
  onDeadLetters?: (count: number, topic: string) => void;
  onBatchDone?: (info: { topic: string; partition: number; messages: number; lag: number; ms: number }) => void;
}

const MAX_BACKOFF_MS = 10_000;

/**
 * The eachBatch loop of STYLE.md §5: the handler commits its database transaction, dead letters are published,
 * and only then is the last offset resolved and committed. A handler that throws is retried with bounded backoff
 * while the consumer still owns the partition; nothing is resolved, so after a crash or a rebalance the batch is
 * delivered again and the idempotent insert makes the replay harmless.
 */
export class BatchConsumer {
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly dlq: KafkaPublisher,
    private readonly options: BatchConsumerOptions,
    private readonly handler: BatchHandler,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxBytes: options.maxBytesPerPartition * 4,
      maxWaitTimeInMs: 200,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 5)),
      allowAutoTopicCreation: false,
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.processBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    if (batch.messages.length === 0) return;
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      if (!isRunning() || isStale()) return;
      try {
        const outcome = await this.handler(batch.topic, batch.partition, batch.messages);
        await this.publishDeadLetters(batch.topic, batch.partition, outcome.deadLetters);
        break;
      } catch (error) {
        this.options.onRetry?.(error as Error, attempt, batch.topic, batch.partition);
        await sleep(Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(attempt - 1, 6)));
        await heartbeat().catch(() => undefined);
      }
    }
    // Offsets follow durability: the transaction (and dead letters) are committed; now the offset may move.
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    await heartbeat();
    this.options.onBatchDone?.({
      topic: batch.topic, partition: batch.partition, messages: batch.messages.length,
      lag: Number(batch.offsetLagLow()), ms: Date.now() - started,
    });
  }

  private async publishDeadLetters(topic: string, partition: number, letters: DeadLetterCandidate[]): Promise<void> {
    if (letters.length === 0) return;
    const failedAt = new Date().toISOString();
    await this.dlq.send(`${topic}.dlq`, letters.map(({ message, reason }) => {
      const letter: DeadLetter = {
        rawPayload: message.value ? message.value.toString('base64') : '',
        reason, topic, partition, offset: message.offset, failedAt,
      };
      return { key: message.key ? message.key.toString() : `${topic}:${partition}:${message.offset}`, value: JSON.stringify(letter) };
    }));
    this.options.onDeadLetters?.(letters.length, topic);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
