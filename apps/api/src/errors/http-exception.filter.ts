import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, FlywheelError, classifyFailure } from '@flywheel/errors';
import { errorBody } from './error-body';

const RETRY_AFTER_SECONDS = '5';
const TOO_LARGE = 'request body is larger than the limit (API_BODY_LIMIT_BYTES; API_REWARDS_BODY_LIMIT_BYTES for /v1/rewards); send smaller batches';
const UNSUPPORTED = 'Content-Type must be application/json';

/** One place maps failures to HTTP: `{ error: { code, message, details } }`. Unknown errors are 500 and logged. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const { status, body } = toResponse(exception, this.logger, request?.id);
    if (status === 503) reply.header('Retry-After', RETRY_AFTER_SECONDS);
    const send = () => void reply.status(status).send(body);
    // A body refused for its declared length is still on its way: read and drop it first (up to a bound), so the
    // connection closes after the answer with nothing unread. Closing on unread bytes resets the connection, and a
    // client still writing (Node's http, fetch) then loses the 413 and sees only a broken pipe.
    if (status === 413 && request?.raw && !request.raw.complete) drainThen(request.raw, send);
    else send();
  }
}

/** The most a refused body is read and dropped, and for how long, before the answer goes out anyway. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 10_000;

function drainThen(raw: FastifyRequest['raw'], then: () => void): void {
  let bytes = 0;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    raw.removeListener('data', onData);
    then();
  };
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > DRAIN_MAX_BYTES) finish();
  };
  const timer = setTimeout(finish, DRAIN_MAX_MS);
  raw.on('data', onData);
  raw.once('end', finish);
  raw.once('error', finish);
  raw.once('close', finish);
  raw.resume();
}

export function toResponse(exception: unknown, logger: Logger, reqId?: string): { status: number; body: object } {
  const error = classify(exception);
  if (error.status >= 500 && error.code === 'INTERNAL') {
    // The whole error under `err`: type, message, stack and its cause chain.
    logger.error({ msg: 'unhandled_error', reqId, err: exception });
  }
  return { status: error.status, body: errorBody(error.code, error.message, error.details) };
}

/** What a client may read about an unavailable dependency (the error's own message names internals). */
const UNAVAILABLE: Partial<Record<ErrorCode, string>> = {
  BROKER_UNAVAILABLE: 'Kafka is unavailable; nothing was accepted, retry later',
  DATABASE_UNAVAILABLE: 'the database is unavailable; retry later',
};

function classify(exception: unknown): { status: number; code: ErrorCode | string; message: string; details?: unknown } {
  if (exception instanceof FlywheelError && exception.status !== 500) {
    const message = UNAVAILABLE[exception.code as ErrorCode] ?? exception.message;
    return { status: exception.status, code: exception.code, message, details: exception.details };
  }
  // Anything else that failed transiently (a refused or lost database connection, a deadlock) is the database:
  // Kafka failures reach here as BrokerUnavailableError.
  if (classifyFailure(exception) === 'transient') {
    return { status: 503, code: 'DATABASE_UNAVAILABLE', message: UNAVAILABLE.DATABASE_UNAVAILABLE! };
  }
  // The router's 404s and Fastify's body errors (Nest hands the latter over as HttpExceptions, FST code dropped).
  if (exception instanceof HttpException) return framework(exception.getStatus(), exception.message);
  const fastify = exception as { statusCode?: number; code?: string; message?: string };
  if (fastify && typeof fastify.statusCode === 'number' && fastify.statusCode < 500) {
    return framework(fastify.statusCode, fastify.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? UNSUPPORTED : fastify.message ?? 'invalid request');
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error' };
}

function codeForStatus(status: number): string {
  switch (status) {
    case 400: return 'VALIDATION_FAILED';
    case 401: return 'UNAUTHENTICATED';
    case 403: return 'FORBIDDEN';
    case 404: return 'NOT_FOUND';
    case 413: return 'PAYLOAD_TOO_LARGE';
    case 415: return 'UNSUPPORTED_MEDIA_TYPE';
    default: return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
  }
}

/** A framework error in the documented shape: a 400 is about the body (it did not parse), named as the field. */
function framework(status: number, message: string): { status: number; code: string; message: string; details: unknown } {
  const code = codeForStatus(status);
  if (status === 413) return { status, code, message: TOO_LARGE, details: {} };
  if (status === 415) return { status, code, message: UNSUPPORTED, details: {} };
  if (code === 'VALIDATION_FAILED') {
    const problem = `body ${message.replace(/^Body /, '').replace(/content-type is set to 'application\/json'/, 'Content-Type is application/json')}`;
    return { status, code, message: problem, details: [{ field: 'body', problems: [problem] }] };
  }
  return { status, code, message, details: {} };
}
