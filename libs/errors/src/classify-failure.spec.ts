import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { classifyFailure, describeFailure, sqlStateOf } from './classify-failure';
import { ERROR_CODES, httpStatusOf } from './error-codes';
import { FlywheelError } from './flywheel-error';

/** What pg's DatabaseError looks like: a message and the server's SQLSTATE. */
const pgError = (code: string, message = `postgres says ${code}`) => Object.assign(new Error(message), { code, severity: 'ERROR' });
/** What TypeORM throws around it: QueryFailedError copies the driver error's fields and keeps it as driverError. */
const typeormError = (driverError: Error) => Object.assign(new Error(driverError.message), { name: 'QueryFailedError', driverError, query: 'INSERT …' });

async function refusedConnection(): Promise<Error> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  const socket = connect(port, '127.0.0.1');
  const [error] = await once(socket, 'error');
  return error as Error;
}

describe('classifyFailure', () => {
  it.each([
    ['22P02', 'permanent'], // invalid_text_representation: 4.5 into a smallint
    ['22003', 'permanent'], // numeric_value_out_of_range: 1e-50 into a real
    ['22001', 'permanent'], // string_data_right_truncation
    ['23505', 'permanent'], // unique_violation
    ['23514', 'permanent'], // check_violation
    ['54000', 'permanent'], // program_limit_exceeded: an index row too large
    ['08006', 'transient'], // connection_failure
    ['08001', 'transient'],
    ['57P01', 'transient'], // admin_shutdown
    ['57P03', 'transient'], // cannot_connect_now
    ['40001', 'transient'], // serialization_failure
    ['40P01', 'transient'], // deadlock_detected
    ['53300', 'transient'], // too_many_connections
    ['55P03', 'transient'], // lock_not_available
    ['42P01', 'unknown'], // undefined_table: a deployment fault, not this message's
    ['57014', 'unknown'], // query_canceled
    ['XX000', 'unknown'], // internal_error
  ])('SQLSTATE %s is %s, bare or wrapped by TypeORM', (code, expected) => {
    expect(classifyFailure(pgError(code))).toBe(expected);
    expect(classifyFailure(typeormError(pgError(code)))).toBe(expected);
  });

  it('treats a refused connection (a real socket error) as transient', async () => {
    const refused = await refusedConnection();
    expect((refused as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(classifyFailure(refused)).toBe('transient');
    expect(classifyFailure(new Error('query failed', { cause: refused }))).toBe('transient');
  });

  it.each(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN'])('treats socket code %s as transient', (code) => {
    expect(classifyFailure(Object.assign(new Error('socket'), { code }))).toBe('transient');
  });

  it('follows AggregateError (happy eyeballs tries several addresses)', () => {
    const all = new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })], 'connect failed');
    expect(classifyFailure(all)).toBe('transient');
  });

  it("uses kafkajs's retriable flag", () => {
    const leaderMoved = Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', retriable: true });
    const gaveUp = Object.assign(new Error('number of retries exceeded'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause: leaderMoved });
    expect(classifyFailure(leaderMoved)).toBe('transient');
    expect(classifyFailure(gaveUp)).toBe('transient');
  });

  it('classifies Flywheel errors by the table, and an unknown code by its cause', () => {
    expect(classifyFailure(new FlywheelError('BROKER_UNAVAILABLE', 'down'))).toBe('transient');
    expect(classifyFailure(new FlywheelError('DECODE_FAILED', 'not valid JSON'))).toBe('permanent');
    expect(classifyFailure(new FlywheelError('INVALID_ROW', 'x is not finite'))).toBe('permanent');
    expect(classifyFailure(new FlywheelError('INTERNAL', 'wrapped', { cause: pgError('40P01') }))).toBe('transient');
    expect(classifyFailure(new FlywheelError('TRAINING_WORKER_FAILED', 'worker 1 failed'))).toBe('unknown');
  });

  it('never reads messages: a message that sounds like an outage is still unknown', () => {
    expect(classifyFailure(new Error('Connection terminated unexpectedly'))).toBe('unknown');
    expect(classifyFailure(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe('unknown');
    expect(classifyFailure('a string')).toBe('unknown');
    expect(classifyFailure(null)).toBe('unknown');
    expect(classifyFailure(undefined)).toBe('unknown');
  });

  it('stops on a cycle of causes', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(classifyFailure(a)).toBe('unknown');
  });
});

describe('describeFailure', () => {
  it('names the SQLSTATE of a database refusal', () => {
    const error = typeormError(pgError('22003', 'value out of range: underflow'));
    expect(sqlStateOf(error)).toBe('22003');
    expect(describeFailure(error)).toBe('value out of range: underflow (SQLSTATE 22003)');
  });

  it('names a socket code the message lacks', () => {
    expect(describeFailure(Object.assign(new Error('read failed'), { code: 'ECONNRESET' }))).toBe('ECONNRESET: read failed');
    expect(sqlStateOf(Object.assign(new Error('x'), { code: 'EPIPE' }))).toBeUndefined();
  });
});

describe('FlywheelError', () => {
  it('keeps code, message, details and cause, and takes its status from the one table', () => {
    const cause = new Error('root');
    const error = new FlywheelError('NOT_FOUND', 'no model m1', { details: { id: 'm1' }, cause });
    expect(error).toMatchObject({ code: 'NOT_FOUND', message: 'no model m1', details: { id: 'm1' }, cause, status: 404, name: 'FlywheelError' });
    class LibraryError extends FlywheelError<'INVALID_ONNX'> {}
    expect(new LibraryError('INVALID_ONNX', 'bad bytes').name).toBe('LibraryError');
  });

  it('maps every code to a real HTTP status', () => {
    for (const code of Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]) {
      expect(httpStatusOf(code)).toBeGreaterThanOrEqual(400);
      expect(httpStatusOf(code)).toBeLessThan(600);
    }
  });
});
