import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, FlywheelError, classifyFailure } from '@flywheel/errors';

const RETRY_AFTER_SECONDS = '5';
const TOO_LARGE = 'request body is larger than the limit (API_BODY_LIMIT_BYTES); send smaller batches';

/** One place maps failures to HTTP: `{ error: { code, message, details } }`. Unknown errors are 500 and logged. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const { status, body } = toResponse(exception, this.logger, http.getRequest<FastifyRequest>()?.id);
    if (status === 503) reply.header('Retry-After', RETRY_AFTER_SECONDS);
    void reply.status(status).send(body);
  }
}

export function toResponse(exception: unknown, logger: Logger, reqId?: string): { status: number; body: object } {
  const error = classify(exception);
  if (error.status >= 500 && error.code === 'INTERNAL') {
    // The whole error under `err`: type, message, stack and its cause chain.
    logger.error({ msg: 'unhandled_error', reqId, err: exception });
  }
  return { status: error.status, body: { error: { code: error.code, message: error.message, details: error.details } } };
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
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const message = status === 413 ? TOO_LARGE : exception.message;
    return { status, code: codeForStatus(status), message };
  }
  // Fastify's own errors (body parsing, body size) carry a statusCode and a FST_ code.
  const fastify = exception as { statusCode?: number; code?: string; message?: string };
  if (fastify && typeof fastify.statusCode === 'number' && fastify.statusCode < 500) {
    const message = fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? TOO_LARGE
      : fastify.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'Content-Type must be application/json'
      : `body: ${fastify.message ?? 'invalid request'}`;
    return { status: fastify.statusCode, code: codeForStatus(fastify.statusCode), message };
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
