import { Kafka } from 'kafkajs';
import { topicNames, topicSpecs } from '@flywheel/contracts';

/** Creates the project's topics with their partition counts if missing (the broker never auto-creates). */
export async function ensureTopics(kafka: Kafka, prefix: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topicSpecs(prefix).filter((spec) => !existing.has(spec.topic));
    if (missing.length) {
      await admin.createTopics({ topics: missing.map((s) => ({ ...s, replicationFactor: -1 })), waitForLeaders: true });
    }
    return missing.map((s) => s.topic);
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: Kafka, prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const names = Object.values(topicNames(prefix));
    const existing = new Set(await admin.listTopics());
    const present = names.filter((n) => existing.has(n));
    if (present.length) await admin.deleteTopics({ topics: present, timeout: 10000 });
  } finally {
    await admin.disconnect();
  }
}
