import { FlywheelError } from '@flywheel/errors';
import { CompressionTypes, IHeaders, Kafka, Producer } from 'kafkajs';
import { keyHashPartitioner } from './partitioner';

/** Kafka did not acknowledge in time, or refused: transient by ERROR_CODES (503 in the api, a retry in the worker). */
export class BrokerUnavailableError extends FlywheelError<'BROKER_UNAVAILABLE'> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('BROKER_UNAVAILABLE', message, options);
  }
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
 */
export class KafkaPublisher {
  private readonly producer: Producer;
  private connecting: Promise<void> | null = null;

  constructor(kafka: Kafka, private readonly timeoutMs: number) {
    this.producer = kafka.producer({
      createPartitioner: keyHashPartitioner,
      allowAutoTopicCreation: false,
      idempotent: false,
      retry: { initialRetryTime: 100, retries: 3, maxRetryTime: Math.max(500, timeoutMs / 2) },
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connecting = null;
    });
  }

  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.withDeadline(async () => {
      await this.connect();
      await this.producer.send({ topic, acks: -1, timeout: this.timeoutMs, compression: CompressionTypes.None, messages });
    }, topic);
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
