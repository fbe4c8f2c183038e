import { randomUUID } from 'node:crypto';
import { IncomingHttpHeaders } from 'node:http';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger, withLogContext } from '@flywheel/config';

const REQUEST_ID_HEADER = 'x-request-id';
/** A caller's request id is kept when it is short and plain; anything else gets a fresh one. */
const PLAIN_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Polled and scraped all day: their access lines are debug, not info. */
const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

/** Fastify's genReqId: the caller's X-Request-Id when it is plain, otherwise a UUID. */
export function requestId(request: { headers: IncomingHttpHeaders }): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && PLAIN_ID.test(given) ? given : randomUUID();
}

/**
 * The request id on every line written while a request is handled (services included), echoed in X-Request-Id, and
 * one access line per request: `request_completed { reqId, method, url, route, status, ms }`.
 */
export function installRequestLog(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  // Bound right before the handler: body parsing runs on the socket's callbacks, outside any earlier binding.
  fastify.addHook('preHandler', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    withLogContext({ reqId: request.id }, done);
  });
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const route = request.routeOptions?.url;
    const level = route && QUIET_ROUTES.has(route) ? 'debug' : 'info';
    logger[level]({
      reqId: request.id, method: request.method, url: request.url, route: route ?? null, status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
    }, 'request_completed');
    done();
  });
}
