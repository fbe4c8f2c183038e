import type { Socket } from 'node:net';
import { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_ID_LENGTH } from '@flywheel/contracts';
import { ErrorCode, httpStatusOf } from '@flywheel/errors';
import { errorBody } from './error-body';

/**
 * The router refuses a path parameter longer than this before any route runs. A valid id is 128 characters; sent
 * percent-encoded, a 4-byte character takes 12 (`%F0%9F%90%88`): Fastify's default of 100 refused valid ids.
 */
export const MAX_PARAM_LENGTH = 12 * MAX_ID_LENGTH;

/** What the router refuses before a route exists (bad percent-encoding, overlong parameter): 400 naming the path. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const problem = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? `path has a parameter longer than ${MAX_PARAM_LENGTH} characters (percent-encoded); ids are at most ${MAX_ID_LENGTH} characters`
    : error.code === 'FST_ERR_BAD_URL' ? 'path is not valid percent-encoded UTF-8'
    : `path cannot be routed (${error.code})`;
  void reply.code(400).send(errorBody('VALIDATION_FAILED', problem, [{ field: 'path', problems: [problem] }]));
}

const REFUSALS: Record<string, [ErrorCode, string, string]> = {
  HPE_HEADER_OVERFLOW: ['HEADERS_TOO_LARGE', 'Request Header Fields Too Large', 'the request headers are larger than the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: ['REQUEST_TIMEOUT', 'Request Timeout', 'the request did not arrive in time'],
};

/**
 * What Node's HTTP parser refuses (a malformed request line or header, a bad Content-Length or chunk, headers too
 * large) never reaches Fastify: it is answered here, in the documented shape, and the connection closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, reason, message] = REFUSALS[error.code ?? ''] ?? ['BAD_REQUEST', 'Bad Request', 'malformed HTTP request'];
  const body = JSON.stringify(errorBody(code, message, { parserError: error.code ?? 'unknown' }));
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${httpStatusOf(code)} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n`
    + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
