import { logLevel } from 'kafkajs';
import { createLogger } from '@flywheel/config';
import { kafkaLogCreator } from './kafka-client';

describe('kafkaLogCreator', () => {
  it('writes kafkajs lines through pino: a timestamp, the namespace as context, its fields as fields', () => {
    const lines: Record<string, unknown>[] = [];
    const log = kafkaLogCreator(createLogger('debug', { write: (line: string) => { lines.push(JSON.parse(line)); } }))();
    log({
      namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR',
      log: { timestamp: 'kafkajs own', logger: 'kafkajs', message: 'Connection error', broker: '127.0.0.1:9092', error: 'ECONNREFUSED' },
    });
    log({ namespace: 'Consumer', level: logLevel.INFO, label: 'INFO', log: { timestamp: 'x', logger: 'kafkajs', message: 'Starting', groupId: 'g' } });
    expect(lines).toEqual([
      { level: 'error', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), context: 'kafkajs.Connection', broker: '127.0.0.1:9092', error: 'ECONNREFUSED', msg: 'Connection error' },
      { level: 'info', time: expect.any(String), context: 'kafkajs.Consumer', groupId: 'g', msg: 'Starting' },
    ]);
  });
});
