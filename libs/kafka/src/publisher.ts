import { FlywheelError, causeChain, classifyFailure } from '@flywheel/errors';
import { CompressionTypes, IHeaders, Kafka, Producer } from 'kafkajs';
import { keyHashPartitioner } from './partitioner';

/** Kafka did not acknowledge in time, or refused: transient by ERROR_CODES (503 in the api, a retry in the worker). */
export class BrokerUnavailableError extends FlywheelError<'BROKER_UNAVAILABLE'> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('BROKER_UNAVAILABLE', message, options);
  }
}

const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1000;

/** Payload bytes per produce request: well under the broker's default message.max.bytes (1 MiB) per partition batch. */
export const CHUNK_BYTES = 512 * 1024;

export function chunks(messages: OutgoingMessage[], limit = CHUNK_BYTES): OutgoingMessage[][] {
  const out: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.key) + (typeof message.value === 'string' ? Buffer.byteLength(message.value) : message.value.length);
    if (current.length && bytes + size > limit) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  out.push(current);
  return out;
}

export interface OutgoingMessage {
  key: string;
  value: string | Buffer;
  headers?: IHeaders;
}

/**
 * Sends batches with acks from all in-sync replicas, or fails within `timeoutMs` with BrokerUnavailableError.
 * kafkajs's idempotent producer is experimental (lost sends under concurrency were reported), so it stays off:
 * delivery is at-least-once and consumers deduplicate by a unique key.
 *
 * The retries are ours, not kafkajs's: its retry of a send keeps the answers of the brokers that already
 * acknowledged their part, so when a broker dies and its partitions move to one of those, the retry sends nothing
 * for them and resolves — acknowledged, never written (seen with a broker SIGKILLed under load:
 * test/kafka-cluster.test.ts). Each attempt here is a new send of the whole batch to the current leaders.
 */
export class KafkaPublisher {
  private readonly producer: Producer;
  private connecting: Promise<void> | null = null;

  constructor(kafka: Kafka, private readonly timeoutMs: number) {
    this.producer = kafka.producer({
      createPartitioner: keyHashPartitioner,
      allowAutoTopicCreation: false,
      idempotent: false,
      retry: { retries: 0 },
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connecting = null;
    });
  }

  /**
   * Sends in chunks of at most CHUNK_BYTES: kafkajs writes one record batch per partition per request, and the
   * broker refuses a batch over message.max.bytes (1 MiB by default), so 4 MB of valid generations in one request
   * was refused on every retry (a 503 forever). Chunks are sent in order; if a later one fails, the earlier ones
   * are durable and the client's retry is deduplicated by eventId / videoId downstream, as for any partial failure.
   */
  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const deadline = Date.now() + this.timeoutMs;
    await this.withDeadline(async () => {
      for (const chunk of chunks(messages)) await this.sendChunk(topic, chunk, deadline);
    }, topic);
  }

  /**
   * One chunk, retried while its failure is transient. A chunk the broker refuses as too large (a topic whose
   * max.message.bytes is under CHUNK_BYTES) is sent as two halves, in order, down to single messages: a message
   * larger than the limit on its own is refused as before.
   */
  private async sendChunk(topic: string, chunk: OutgoingMessage[], deadline: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.connect();
        const timeout = Math.max(100, deadline - Date.now());
        await this.producer.send({ topic, acks: -1, timeout, compression: CompressionTypes.None, messages: chunk });
        return;
      } catch (error) {
        if (isMessageTooLarge(error) && chunk.length > 1) {
          const half = Math.ceil(chunk.length / 2);
          await this.sendChunk(topic, chunk.slice(0, half), deadline);
          await this.sendChunk(topic, chunk.slice(half), deadline);
          return;
        }
        // kafkajs refreshed its metadata before throwing: the next attempt goes to the partitions' new leaders.
        if (classifyFailure(error) !== 'transient' || Date.now() >= deadline) throw error;
        await sleep(Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempt - 1), Math.max(0, deadline - Date.now())));
        if (Date.now() >= deadline) throw error;
      }
    }
  }

  async disconnect(): Promise<void> {
    this.connecting = null;
    await this.producer.disconnect().catch(() => undefined);
  }

  private connect(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.producer.connect().catch((error) => {
        this.connecting = null;
        throw error;
      });
    }
    return this.connecting;
  }

  private async withDeadline(work: () => Promise<void>, topic: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BrokerUnavailableError(`no acknowledgement from Kafka for ${topic} within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([work(), deadline]);
    } catch (error) {
      if (error instanceof BrokerUnavailableError) throw error;
      throw new BrokerUnavailableError(`Kafka did not accept the batch for ${topic}: ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The broker refused a record batch over the topic's max.message.bytes: the same send can never succeed whole. */
export function isMessageTooLarge(error: unknown): boolean {
  return causeChain(error).some((link) => (link as { type?: unknown }).type === 'MESSAGE_TOO_LARGE');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
