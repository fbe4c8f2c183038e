import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FlywheelConfig } from '@flywheel/config';
import { ProjectsRepository } from '@flywheel/database';

/** The routes a browser app posts to with its ingest key. Everything else is a read or admin route. */
export const INGEST_ROUTES: ReadonlySet<string> = new Set(['/v1/events', '/v1/generations']);
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/** Whether `origin` is in `list` (`*` allows every origin). */
export function originAllowed(list: readonly string[], origin: string): boolean {
  return list.includes('*') || list.includes(origin);
}

/**
 * CORS for browser apps. Ingest routes: the origins a project allows (else the api's default). A preflight carries no
 * key, so it is answered for any origin some live project (or the default) allows; the request itself is then
 * checked against its own project's list by the key guard. Read routes: only CORS_READ_ORIGINS (none by default:
 * same-origin). Credentials are never allowed: the key is a bearer token, not a cookie.
 */
export function registerCors(fastify: FastifyInstance, config: FlywheelConfig, projects: ProjectsRepository): void {
  const { ingestOrigins, readOrigins } = config.api.cors;
  let projectOrigins: { origins: Set<string>; expires: number; loading?: Promise<Set<string>> } = { origins: new Set(), expires: 0 };

  const fromProjects = async (): Promise<Set<string>> => {
    const now = Date.now();
    if (projectOrigins.expires > now) return projectOrigins.origins;
    projectOrigins.loading ??= projects.allowedOrigins().then(
      (list) => {
        projectOrigins = { origins: new Set(list), expires: Date.now() + Math.max(1000, config.api.keyCacheTtlMs) };
        return projectOrigins.origins;
      },
      () => projectOrigins.origins, // database down: keep the last answer; ingest still works for default origins
    ).finally(() => { projectOrigins.loading = undefined; });
    return projectOrigins.loading;
  };

  const allows = async (ingest: boolean, origin: string): Promise<boolean> => {
    if (!ingest) return originAllowed(readOrigins, origin);
    return originAllowed(ingestOrigins, origin) || (await fromProjects()).has(origin);
  };

  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (typeof origin !== 'string') return;
    const path = request.url.split('?')[0].replace(/\/+$/, '');
    const ingest = INGEST_ROUTES.has(path);
    const allowed = await allows(ingest, origin);
    reply.header('vary', 'Origin');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      if (!allowed) {
        return reply.code(403).send({
          error: {
            code: 'FORBIDDEN',
            message: ingest
              ? `origin ${origin} may not post to ${path}: add it to the project's allowedOrigins (or CORS_INGEST_ORIGINS)`
              : `origin ${origin} may not call ${path}: read routes are same-origin unless CORS_READ_ORIGINS lists it`,
            details: { origin, path },
          },
        });
      }
      return reply.code(204).headers({
        'access-control-allow-origin': origin,
        'access-control-allow-methods': ingest ? 'POST, OPTIONS' : 'GET, POST, PATCH, DELETE, OPTIONS',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': PREFLIGHT_MAX_AGE_SECONDS,
      }).send();
    }
    if (allowed) {
      // Retry-After must be readable by the SDK: it is how a browser app learns how long to back off.
      reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', 'Retry-After');
    }
  });
}
