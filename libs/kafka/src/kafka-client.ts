import { Kafka, LogEntry, logLevel } from 'kafkajs';
import { FlywheelConfig } from '@flywheel/config';

export { Kafka };
export type { KafkaMessage, IHeaders, Producer, Consumer, Admin } from 'kafkajs';

const LEVELS: Record<FlywheelConfig['logLevel'], logLevel> = {
  debug: logLevel.DEBUG, info: logLevel.WARN, warn: logLevel.WARN, error: logLevel.ERROR,
};

const LEVEL_NAMES: Record<number, string> = {
  [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug',
};

/** kafkajs logs through our one-line JSON format; its INFO chatter only shows at LOG_LEVEL=debug. */
export function createKafka(config: FlywheelConfig, clientSuffix: string): Kafka {
  return new Kafka({
    clientId: `${config.kafka.clientId}-${clientSuffix}`,
    brokers: config.kafka.brokers,
    logLevel: LEVELS[config.logLevel],
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 200, retries: 5, maxRetryTime: 5000 },
    logCreator: () => (entry: LogEntry) => {
      const { message, ...fields } = entry.log;
      process.stderr.write(`${JSON.stringify({ level: LEVEL_NAMES[entry.level] ?? 'info', context: `kafkajs.${entry.namespace}`, msg: message, ...pickFields(fields) })}\n`);
    },
  });
}

function pickFields(fields: Record<string, unknown>): Record<string, unknown> {
  const { timestamp: _t, logger: _l, ...rest } = fields;
  return rest;
}
