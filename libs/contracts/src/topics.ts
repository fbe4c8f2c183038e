/** Topic names of contract v1. A prefix (KAFKA_TOPIC_PREFIX) lets test runs and tenants share a cluster. */
export const TOPIC_BASE = {
  events: 'flywheel.events.v1',
  generations: 'flywheel.generations.v1',
  preferences: 'flywheel.preferences.v1',
} as const;

export interface TopicNames {
  events: string;
  generations: string;
  preferences: string;
  eventsDlq: string;
  generationsDlq: string;
}

export function topicNames(prefix = ''): TopicNames {
  const p = prefix ? `${prefix}.` : '';
  return {
    events: `${p}${TOPIC_BASE.events}`,
    generations: `${p}${TOPIC_BASE.generations}`,
    preferences: `${p}${TOPIC_BASE.preferences}`,
    eventsDlq: `${p}${TOPIC_BASE.events}.dlq`,
    generationsDlq: `${p}${TOPIC_BASE.generations}.dlq`,
  };
}

/** Partition counts: events carry the load; the rest are low-volume. */
export function topicSpecs(prefix = ''): { topic: string; numPartitions: number }[] {
  const t = topicNames(prefix);
  return [
    { topic: t.events, numPartitions: 6 },
    { topic: t.generations, numPartitions: 3 },
    { topic: t.preferences, numPartitions: 3 },
    { topic: t.eventsDlq, numPartitions: 1 },
    { topic: t.generationsDlq, numPartitions: 1 },
  ];
}

/** What a dead-lettered message carries (STYLE.md §6). */
export interface DeadLetter {
  /** The message's value, base64; only a prefix of it (or nothing) when `rawTruncated`. */
  rawPayload: string;
  reason: string;
  topic: string;
  partition: number;
  offset: string;
  failedAt: string;
  /**
   * Set when the value was too large to carry whole (base64 makes it 4/3, and the letter must fit the DLQ topic's
   * message limit): the letter keeps a prefix, or nothing if the DLQ refused even that, with the value's size and
   * digest; the message itself stays readable at (topic, partition, offset) for the source topic's retention.
   */
  rawTruncated?: true;
  rawBytes?: number;
  rawSha256?: string;
}
