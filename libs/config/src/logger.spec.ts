import { Logger as NestLogger } from '@nestjs/common';
import { PinoNestLogger, createLogger, withLogContext } from './logger';

/** A destination that keeps the lines, parsed. */
function captureLines(): { lines: Record<string, any>[]; write(line: string): void } {
  const lines: Record<string, any>[] = [];
  return { lines, write: (line: string) => { lines.push(JSON.parse(line)); } };
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('createLogger', () => {
  it('writes one JSON object a line: level by name, ISO time, fields as fields, the message', () => {
    const out = captureLines();
    createLogger('info', out).child({ context: 'IngestRunner' }).warn({ topic: 't', count: 2 }, 'batch_dead_lettered');
    expect(out.lines).toEqual([{ level: 'warn', time: expect.stringMatching(ISO_TIME), context: 'IngestRunner', topic: 't', count: 2, msg: 'batch_dead_lettered' }]);
  });

  it('keeps LOG_LEVEL: lines below it are not written', () => {
    const out = captureLines();
    const logger = createLogger('warn', out);
    logger.info('quiet');
    logger.debug('quieter');
    logger.error('loud');
    expect(out.lines.map((l) => l.msg)).toEqual(['loud']);
  });

  it('logs an error with its type, message, stack and the cause chain', () => {
    const out = captureLines();
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const error = new TypeError('rollup write failed', { cause });
    createLogger('info', out).error({ err: error }, 'batch_failed');
    const [line] = out.lines;
    expect(line.err).toMatchObject({ type: 'TypeError', message: 'rollup write failed', stack: expect.stringContaining('TypeError: rollup write failed\n    at ') });
    expect(line.err.cause).toMatchObject({ type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:5432', stack: expect.stringContaining('Error: connect ECONNREFUSED') });
  });

  it('adds the fields of the log context to every line written inside it, without overriding a line\'s own', async () => {
    const out = captureLines();
    const logger = createLogger('info', out);
    logger.info('outside');
    await withLogContext({ reqId: 'r-1' }, async () => {
      await Promise.resolve();
      logger.info('inside');
      logger.info({ reqId: 'explicit' }, 'own');
    });
    expect(out.lines.map((l) => [l.msg, l.reqId])).toEqual([['outside', undefined], ['inside', 'r-1'], ['own', 'explicit']]);
  });
});

describe('PinoNestLogger', () => {
  it('maps Nest\'s calls: context last, objects as fields, errors under err, error(message, stack, context)', () => {
    const out = captureLines();
    const logger = new PinoNestLogger(createLogger('debug', out));
    logger.log('plain phrase', 'InstanceLoader');
    logger.warn({ msg: 'batch_retry', attempt: 2 }, 'IngestRunner');
    logger.error('crashed', 'Error: crashed\n    at here', 'ExceptionsHandler');
    logger.error(new Error('boom', { cause: new Error('root cause') }), undefined, 'Filter');
    logger.debug('no context');
    expect(out.lines).toEqual([
      { level: 'info', time: expect.stringMatching(ISO_TIME), context: 'InstanceLoader', msg: 'plain phrase' },
      { level: 'warn', time: expect.any(String), context: 'IngestRunner', attempt: 2, msg: 'batch_retry' },
      { level: 'error', time: expect.any(String), context: 'ExceptionsHandler', stack: 'Error: crashed\n    at here', msg: 'crashed' },
      { level: 'error', time: expect.any(String), context: 'Filter', err: expect.objectContaining({ message: 'boom', cause: expect.objectContaining({ message: 'root cause' }) }), msg: 'boom' },
      { level: 'debug', time: expect.any(String), msg: 'no context' },
    ]);
  });

  it('serves `new Logger(Context)` from @nestjs/common once installed', () => {
    const out = captureLines();
    NestLogger.overrideLogger(new PinoNestLogger(createLogger('info', out)));
    try {
      const logger = new NestLogger('TrainerRunner');
      logger.log({ msg: 'training_started', jobId: 'j1' });
      logger.error({ msg: 'unhandled_error', err: new Error('outer', { cause: new Error('inner') }) });
    } finally {
      NestLogger.overrideLogger(true);
    }
    expect(out.lines[0]).toMatchObject({ level: 'info', context: 'TrainerRunner', jobId: 'j1', msg: 'training_started' });
    expect(out.lines[1]).toMatchObject({ level: 'error', context: 'TrainerRunner', msg: 'unhandled_error', err: { message: 'outer', stack: expect.stringContaining('Error: outer'), cause: { message: 'inner' } } });
  });
});
