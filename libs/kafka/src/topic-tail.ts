import { FlywheelConfig } from '@flywheel/config';
import { createKafka } from './kafka-client';

/** A message as a reader of a topic gets it: its value, and its headers as strings. */
export interface TailedMessage {
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface TopicTail {
  stop(): Promise<void>;
}

/**
 * Reads `topic` in consumer group `groupId` from the topic's end as it is when this is called (seeked after joining),
 * so what was published before — older runs on a shared broker — is never read; every later message goes to
 * `onMessage`. For readers outside the pipeline (the demo's generator, a trainer's own consumer).
 */
export async function tailTopic(
  config: FlywheelConfig, clientSuffix: string, topic: string, groupId: string, onMessage: (message: TailedMessage) => void,
): Promise<TopicTail> {
  const kafka = createKafka(config, clientSuffix);
  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; offset: string }[];
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200, sessionTimeout: 10000, heartbeatInterval: 2000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
      }
      onMessage({ value: message.value, headers });
    },
  });
  for (const { partition, offset } of ends) consumer.seek({ topic, partition, offset });
  return { stop: () => consumer.disconnect() };
}
