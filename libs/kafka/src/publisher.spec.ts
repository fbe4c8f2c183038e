import { EventEmitter } from 'node:events';
import { Kafka, ProducerConfig, ProducerRecord } from 'kafkajs';
import { BrokerUnavailableError, KafkaPublisher, chunks } from './publisher';

/** A kafkajs producer stand-in whose sends fail or succeed as the test says. */
class FakeProducer extends EventEmitter {
  readonly events = { DISCONNECT: 'producer.disconnect' };
  readonly sends: ProducerRecord[] = [];
  constructor(private readonly outcomes: (() => Promise<void>)[]) {
    super();
  }
  connect = async () => undefined;
  disconnect = async () => undefined;
  send = async (record: ProducerRecord) => {
    this.sends.push(record);
    await (this.outcomes.shift() ?? (async () => undefined))();
    return [];
  };
}

function publisherWith(outcomes: (() => Promise<void>)[], timeoutMs = 2000) {
  const producer = new FakeProducer(outcomes);
  let config: ProducerConfig | undefined;
  const kafka = { producer: (c: ProducerConfig) => ((config = c), producer) } as unknown as Kafka;
  return { publisher: new KafkaPublisher(kafka, timeoutMs), producer, config: () => config! };
}

const leaderMoved = () => Promise.reject(Object.assign(new Error('Connection error: read ECONNRESET'), { name: 'KafkaJSConnectionError', retriable: true }));
const messages = [{ key: 'p:v1', value: 'a' }, { key: 'p:v2', value: 'b' }, { key: 'p:v3', value: 'c' }];

describe('KafkaPublisher', () => {
  it("turns kafkajs's own retries off: they keep the brokers that already answered, and can drop the partitions that moved to them", () => {
    const { config } = publisherWith([]);
    expect(config().retry?.retries).toBe(0);
  });

  it('sends the whole batch again, with acks from all in-sync replicas, after a failed attempt', async () => {
    const { publisher, producer } = publisherWith([leaderMoved, leaderMoved]);
    await expect(publisher.send('t', messages)).resolves.toBeUndefined();
    expect(producer.sends).toHaveLength(3);
    for (const send of producer.sends) expect(send).toMatchObject({ topic: 't', acks: -1, messages });
  });

  it('gives up with BrokerUnavailableError when nothing is acknowledged before the deadline', async () => {
    const { publisher, producer } = publisherWith(Array.from({ length: 1000 }, () => leaderMoved), 300);
    await expect(publisher.send('t', messages)).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(producer.sends.length).toBeGreaterThan(1);
  });

  it("halves a send the broker refuses as too large until each part fits its limit, in order (a topic's max.message.bytes under CHUNK_BYTES)", async () => {
    const many = Array.from({ length: 10 }, (_, i) => ({ key: `p:v${i}`, value: 'x'.repeat(100) }));
    const producer = new FakeProducer([]);
    // The broker takes a record batch of at most 300 bytes of values: 10 messages of 100 go as 3 + 2 + 3 + 2.
    producer.send = async (record: ProducerRecord) => {
      producer.sends.push(record);
      const bytes = record.messages.reduce((sum, m) => sum + String(m.value).length, 0);
      if (bytes > 300) throw Object.assign(new Error('The request included a message larger than the max message size'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false, code: 10 });
      return [];
    };
    const kafka = { producer: () => producer } as unknown as Kafka;
    await expect(new KafkaPublisher(kafka, 2000).send('t', many)).resolves.toBeUndefined();
    const delivered = producer.sends.filter((r) => r.messages.reduce((sum, m) => sum + String(m.value).length, 0) <= 300);
    expect(delivered.flatMap((r) => r.messages)).toEqual(many);
  });

  it('still refuses one message larger than the limit on its own, without retrying it', async () => {
    const tooLarge = () => Promise.reject(Object.assign(new Error('The request included a message larger than the max message size'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false, code: 10 }));
    const { publisher, producer } = publisherWith([tooLarge]);
    await expect(publisher.send('t', messages.slice(0, 1))).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(producer.sends).toHaveLength(1);
  });

  it('does not retry what can never succeed', async () => {
    const denied = () => Promise.reject(Object.assign(new Error('Not authorized to access topics: [Topic authorization failed]'), { name: 'KafkaJSProtocolError', type: 'TOPIC_AUTHORIZATION_FAILED', retriable: false, code: 29 }));
    const { publisher, producer } = publisherWith([denied]);
    await expect(publisher.send('t', messages)).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(producer.sends).toHaveLength(1);
  });
});

describe('chunks', () => {
  const message = (n: number, bytes: number) => ({ key: `k${n}`, value: 'x'.repeat(bytes - `k${n}`.length) });

  it('keeps a batch under the limit whole, and splits a larger one in order at the limit', () => {
    const small = Array.from({ length: 10 }, (_, i) => message(i, 100));
    expect(chunks(small, 1000)).toEqual([small]);
    const large = Array.from({ length: 25 }, (_, i) => message(i, 100));
    const split = chunks(large, 1000);
    expect(split.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(split.flat()).toEqual(large);
  });

  it('counts UTF-8 bytes, and sends a message larger than the limit on its own', () => {
    const emoji = { key: 'k', value: '🐈'.repeat(300) }; // 1,201 bytes in 601 UTF-16 units
    expect(chunks([emoji, emoji], 2000).map((c) => c.length)).toEqual([1, 1]);
    expect(chunks([message(0, 10), message(1, 5000), message(2, 10)], 1000).map((c) => c.length)).toEqual([1, 1, 1]);
  });
});
