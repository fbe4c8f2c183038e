import { Admin, ConfigResourceTypes, Kafka } from 'kafkajs';
import { topicNames, topicSpecs } from '@flywheel/contracts';

/** How many copies of each topic, and how many must be in sync for a write; null: the broker's default. */
export interface TopicDurability {
  replicationFactor: number | null;
  minInsyncReplicas: number | null;
}

/**
 * Creates the project's topics with their partition counts if missing (the broker never auto-creates). Topics
 * that exist keep their settings: changing replicas is a partition reassignment, an operator's decision.
 */
export async function ensureTopics(kafka: Kafka, prefix: string, durability?: TopicDurability): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topicSpecs(prefix).filter((spec) => !existing.has(spec.topic));
    if (missing.length) {
      const replicationFactor = durability?.replicationFactor ?? -1;
      const minIsr = durability?.minInsyncReplicas;
      const configEntries = minIsr ? [{ name: 'min.insync.replicas', value: String(minIsr) }] : [];
      await admin.createTopics({ topics: missing.map((s) => ({ ...s, replicationFactor, configEntries })), waitForLeaders: false });
      await waitForLeaders(admin, missing.map((s) => s.topic));
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

export interface TopicReplicas {
  topic: string;
  /** The topic's effective min.insync.replicas (its own setting or the broker's default). */
  minInsyncReplicas: number;
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[] }[];
}

/** Where each partition's replicas live and which are in sync: for operators and the cluster tests. */
export async function describeTopics(kafka: Kafka, topics: string[]): Promise<TopicReplicas[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [metadata, configs] = await Promise.all([
      admin.fetchTopicMetadata({ topics }),
      admin.describeConfigs({ includeSynonyms: false, resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas'] })) }),
    ]);
    return metadata.topics.map((t) => ({
      topic: t.name,
      minInsyncReplicas: Number(configs.resources.find((r) => r.resourceName === t.name)?.configEntries[0]?.configValue),
      partitions: t.partitions
        .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: [...p.replicas].sort(), isr: [...p.isr].sort() }))
        .sort((a, b) => a.partition - b.partition),
    }));
  } finally {
    await admin.disconnect();
  }
}

/** A consumer group's state ('Stable' once a rebalance settled) and its members' client ids. */
export async function describeGroup(kafka: Kafka, groupId: string): Promise<{ state: string; members: string[] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups: [group] } = await admin.describeGroups([groupId]);
    return { state: group.state, members: group.members.map((m) => m.memberId) };
  } finally {
    await admin.disconnect();
  }
}

/** Per partition: the end of the log and the group's committed offset (what is left is end − committed). */
export async function groupOffsets(kafka: Kafka, groupId: string, topic: string): Promise<{ partition: number; end: number; committed: number }[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    return ends
      .map((e) => ({ partition: e.partition, end: Number(e.high), committed: Number(committed.partitions.find((c) => c.partition === e.partition)?.offset ?? -1) }))
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

/**
 * kafkajs's own `waitForLeaders` retries only LEADER_NOT_AVAILABLE, but a broker that just created a topic may also
 * answer UNKNOWN_TOPIC_OR_PARTITION for a moment: wait until every partition has a leader, whatever it answers.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await admin.fetchTopicMetadata({ topics }).then(
      (m) => m.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)),
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
