import { Kafka, LogEntry, logLevel } from 'kafkajs';
import { FlywheelConfig, Logger, rootLogger } from '@flywheel/config';

export { Kafka };
export type { KafkaMessage, IHeaders, Producer, Consumer, Admin } from 'kafkajs';

const LEVELS: Record<FlywheelConfig['logLevel'], logLevel> = {
  debug: logLevel.DEBUG, info: logLevel.WARN, warn: logLevel.WARN, error: logLevel.ERROR,
};

const LEVEL_NAMES = {
  [logLevel.NOTHING]: 'silent', [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug',
} as const;

/**
 * kafkajs logs through the process's pino logger (level, time, context `kafkajs.<namespace>`, its fields as fields);
 * its INFO chatter only shows at LOG_LEVEL=debug.
 */
export function createKafka(config: FlywheelConfig, clientSuffix: string): Kafka {
  return new Kafka({
    clientId: `${config.kafka.clientId}-${clientSuffix}`,
    brokers: config.kafka.brokers,
    logLevel: LEVELS[config.logLevel],
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 200, retries: 5, maxRetryTime: 5000 },
    logCreator: kafkaLogCreator(rootLogger()),
  });
}

/** kafkajs's logCreator over a pino logger: its own timestamp and logger name give way to pino's time and context. */
export function kafkaLogCreator(logger: Logger): () => (entry: LogEntry) => void {
  return () => (entry: LogEntry) => {
    const { message, timestamp: _timestamp, logger: _logger, ...fields } = entry.log;
    const level = LEVEL_NAMES[entry.level as keyof typeof LEVEL_NAMES] ?? 'info';
    if (level === 'silent') return;
    logger[level]({ context: `kafkajs.${entry.namespace}`, ...fields }, message);
  };
}
