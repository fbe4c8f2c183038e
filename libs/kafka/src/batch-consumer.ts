import { createHash } from 'node:crypto';
import { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { DeadLetter } from '@flywheel/contracts';
import { FailureClass, classifyFailure, describeFailure } from '@flywheel/errors';
import { PartitionWait, PartitionWatch } from './partition-watch';
import { KafkaPublisher, isMessageTooLarge } from './publisher';

export interface DeadLetterCandidate {
  message: KafkaMessage;
  reason: string;
}

export interface BatchOutcome {
  /** Messages that can never be processed; they go to `<topic>.dlq` before the offsets move. */
  deadLetters: DeadLetterCandidate[];
}

/**
 * Processes a contiguous run of one partition's messages in one database transaction, returning the messages it
 * could not decode. It may be called again with any sub-run of a batch (when the batch is split), so it must be
 * idempotent per message.
 */
export type BatchHandler = (topic: string, partition: number, messages: KafkaMessage[]) => Promise<BatchOutcome>;

export interface BatchConsumerOptions {
  groupId: string;
  topics: string[];
  partitionsConsumedConcurrently: number;
  maxBytesPerPartition: number;
  sessionTimeoutMs: number;
  /** A partition whose offset has not moved for this long while it has messages waiting is stalled. */
  stallAfterMs: number;
  /**
   * Asked before an unexplained failure is blamed on the messages: false (a dependency does not answer) keeps the
   * batch retrying instead, so an outage whose errors carry no code never dead-letters anything.
   */
  dependenciesAvailable?: () => Promise<boolean>;
  /** Called on every failed attempt that will be retried (transient, or unknown within its bound). */
  onRetry?: (error: Error, attempt: number, topic: string, partition: number, failure: FailureClass) => void;
  /** Called when a run of messages failed permanently and is split in two to find the message(s) at fault. */
  onSplit?: (info: { topic: string; partition: number; messages: number; error: Error }) => void;
  onDeadLetters?: (count: number, topic: string) => void;
  onBatchDone?: (info: { topic: string; partition: number; messages: number; lag: number; ms: number }) => void;
}

const MAX_BACKOFF_MS = 10_000;
/** Attempts at a run whose failure the classifier cannot place before it is treated as permanent (then split). */
export const UNKNOWN_FAILURE_ATTEMPTS = 4;
const DEPENDENCY_PROBE_TIMEOUT_MS = 5_000;

type Attempt = { kind: 'stored' } | { kind: 'stopped' } | { kind: 'refused'; error: unknown; failure: FailureClass; attempts: number };

/**
 * The eachBatch loop of STYLE.md §5, with failures classified by @flywheel/errors (README, "One error model"):
 *
 * - transient (the database or the broker is unavailable): retry the same messages with bounded exponential backoff;
 *   nothing is resolved, so nothing is dead-lettered and no offset moves, however long the outage.
 * - permanent (a SQLSTATE class 22/23/54 refusal, …): split the run in two halves and process each on its own,
 *   in order, each in its own transaction; a half that is stored moves the offset past it; a single message that
 *   still fails goes to `<topic>.dlq` with the reason and the offset moves past it. One bad message among n costs
 *   about 2·log2(n) extra transactions and never holds the partition.
 * - unknown: retried UNKNOWN_FAILURE_ATTEMPTS times, then — if the dependencies answer — treated as permanent.
 *
 * Offsets follow durability (invariant 3): a run's offset is resolved and committed only after its transaction and
 * its dead letters are. After a crash or a rebalance the uncommitted rest is delivered again and the idempotent
 * insert makes the replay harmless.
 */
export class BatchConsumer {
  private readonly consumer: Consumer;
  private readonly watch = new PartitionWatch();

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
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => this.watch.assigned(payload.memberAssignment));
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      // Commit each resolved run at once: a split batch's stored halves stay stored across a crash.
      autoCommitThreshold: 1,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.processBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  /** Every assigned partition and how long it has waited to advance (0: nothing waiting). */
  partitionWaits(): PartitionWait[] {
    return this.watch.waits();
  }

  /** Partitions that have waited longer than `stallAfterMs` with messages to process. */
  stalledPartitions(): PartitionWait[] {
    return this.watch.stalled(this.options.stallAfterMs);
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const started = Date.now();
    this.watch.batchStarted(batch.topic, batch.partition);
    let settled = false;
    try {
      settled = await this.settle(payload, batch.messages);
    } finally {
      this.watch.batchEnded(batch.topic, batch.partition, settled ? Number(batch.offsetLag()) : Number(batch.offsetLagLow()));
    }
    if (!settled) return;
    this.options.onBatchDone?.({
      topic: batch.topic, partition: batch.partition, messages: batch.messages.length,
      lag: Number(batch.offsetLag()), ms: Date.now() - started,
    });
  }

  /** Stores a contiguous run of the batch, splitting it around messages that fail permanently; false: stop. */
  private async settle(payload: EachBatchPayload, messages: KafkaMessage[]): Promise<boolean> {
    const { topic, partition } = payload.batch;
    const result = await this.attempt(payload, messages);
    if (result.kind === 'stopped') return false;
    if (result.kind === 'refused') {
      if (messages.length > 1) {
        this.options.onSplit?.({ topic, partition, messages: messages.length, error: result.error as Error });
        const half = Math.ceil(messages.length / 2);
        return (await this.settle(payload, messages.slice(0, half))) && (await this.settle(payload, messages.slice(half)));
      }
      const reason = result.failure === 'permanent'
        ? `refused: ${describeFailure(result.error)}`
        : `failed ${result.attempts} times, cause unknown: ${describeFailure(result.error)}`;
      const sent = await this.retrying(payload, () => this.publishDeadLetters(topic, partition, [{ message: messages[0], reason }]));
      if (!sent) return false;
    }
    // Offsets follow durability: the run's transaction (and its dead letters) committed; now the offset may move.
    payload.resolveOffset(messages[messages.length - 1].offset);
    await payload.commitOffsetsIfNecessary();
    await payload.heartbeat();
    this.watch.advanced(topic, partition);
    return true;
  }

  /** One run, retried while its failure is transient (or unknown, within the bound). */
  private async attempt(payload: EachBatchPayload, messages: KafkaMessage[]): Promise<Attempt> {
    const { topic, partition } = payload.batch;
    let unknown = 0;
    for (let attempt = 1; ; attempt++) {
      if (!payload.isRunning() || payload.isStale()) return { kind: 'stopped' };
      try {
        const outcome = await this.handler(topic, partition, messages);
        await this.publishDeadLetters(topic, partition, outcome.deadLetters);
        return { kind: 'stored' };
      } catch (error) {
        this.watch.failed(topic, partition, error);
        let failure = classifyFailure(error);
        if (failure === 'unknown' && ++unknown >= UNKNOWN_FAILURE_ATTEMPTS && (await this.dependenciesAvailable())) {
          return { kind: 'refused', error, failure, attempts: unknown };
        }
        if (failure === 'permanent') return { kind: 'refused', error, failure, attempts: attempt };
        this.options.onRetry?.(error as Error, attempt, topic, partition, failure);
        await this.backoff(payload, attempt);
      }
    }
  }

  /** Retries `send` (a dead letter) until it succeeds; false when the consumer stops first. */
  private async retrying(payload: EachBatchPayload, send: () => Promise<void>): Promise<boolean> {
    const { topic, partition } = payload.batch;
    for (let attempt = 1; ; attempt++) {
      if (!payload.isRunning() || payload.isStale()) return false;
      try {
        await send();
        return true;
      } catch (error) {
        this.watch.failed(topic, partition, error);
        this.options.onRetry?.(error as Error, attempt, topic, partition, classifyFailure(error));
        await this.backoff(payload, attempt);
      }
    }
  }

  private async backoff(payload: EachBatchPayload, attempt: number): Promise<void> {
    await sleep(Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(attempt - 1, 6)));
    await payload.heartbeat().catch(() => undefined);
  }

  private async dependenciesAvailable(): Promise<boolean> {
    const probe = this.options.dependenciesAvailable;
    if (!probe) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), DEPENDENCY_PROBE_TIMEOUT_MS); });
    try {
      return await Promise.race([probe().catch(() => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends the letters to `<topic>.dlq`. A value over DEAD_LETTER_RAW_BYTES travels as a prefix with its size and
   * digest (its letter whole could exceed the DLQ's message limit); if the DLQ still refuses a send as too large (a
   * topic configured smaller), each letter is sent on its own, and one it refuses goes again without its payload. A
   * letter the broker cannot take would otherwise be retried as a broker outage, and its partition would never move.
   * Letters are at least once: the parts of a refused send that fit were delivered, and are sent again.
   */
  private async publishDeadLetters(topic: string, partition: number, letters: DeadLetterCandidate[]): Promise<void> {
    if (letters.length === 0) return;
    const failedAt = new Date().toISOString();
    const outgoing = (candidate: DeadLetterCandidate, keep: number) => ({
      key: candidate.message.key ? candidate.message.key.toString() : `${topic}:${partition}:${candidate.message.offset}`,
      value: JSON.stringify(deadLetter(candidate, { topic, partition, failedAt }, keep)),
    });
    try {
      await this.dlq.send(`${topic}.dlq`, letters.map((l) => outgoing(l, DEAD_LETTER_RAW_BYTES)));
    } catch (error) {
      if (!isMessageTooLarge(error)) throw error;
      for (const letter of letters) {
        try {
          await this.dlq.send(`${topic}.dlq`, [outgoing(letter, DEAD_LETTER_RAW_BYTES)]);
        } catch (single) {
          if (!isMessageTooLarge(single)) throw single;
          await this.dlq.send(`${topic}.dlq`, [outgoing(letter, 0)]);
        }
      }
    }
    this.options.onDeadLetters?.(letters.length, topic);
  }
}

/**
 * Raw bytes a dead letter carries whole: base64 makes them 4/3 (683 KiB), under the 1 MiB a topic takes by default
 * (message.max.bytes), envelope included.
 */
export const DEAD_LETTER_RAW_BYTES = 512 * 1024;
/** What a letter keeps of a larger value: a prefix to recognise it by. */
export const DEAD_LETTER_PREFIX_BYTES = 16 * 1024;

/** The letter of one message; a value over `keep` bytes is cut to a prefix (none when `keep` is 0) with its size and digest. */
export function deadLetter(candidate: DeadLetterCandidate, where: { topic: string; partition: number; failedAt: string }, keep: number): DeadLetter {
  const value = candidate.message.value ?? Buffer.alloc(0);
  const whole = value.length <= keep;
  const letter: DeadLetter = {
    rawPayload: value.subarray(0, whole ? value.length : Math.min(keep, DEAD_LETTER_PREFIX_BYTES)).toString('base64'),
    reason: candidate.reason, topic: where.topic, partition: where.partition, offset: candidate.message.offset, failedAt: where.failedAt,
  };
  if (whole) return letter;
  return { ...letter, rawTruncated: true, rawBytes: value.length, rawSha256: createHash('sha256').update(value).digest('hex') };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
