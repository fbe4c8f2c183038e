import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, applyDecorators, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { FastifyReply, FastifyRequest } from 'fastify';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { KeyKind, KeyOwner } from '@flywheel/database';
import { originAllowed } from '../cors/cors';
import { FlywheelError } from '@flywheel/errors';
import { RateLimiter } from '../rate-limit/rate-limiter';
import { DocumentAuth } from '../openapi/openapi.decorators';
import { KeyCache } from './key-cache';

const REQUIRED_KIND = 'flywheel:requiredKeyKind';

/**
 * `ingest`: either key may call (ingest keys are write-only). `secret`: only a secret key. The OpenAPI document's
 * security and 401/403/410/429 responses follow from it.
 */
export const RequireKey = (kind: KeyKind) => applyDecorators(SetMetadata(REQUIRED_KIND, kind), DocumentAuth(kind));

type AuthedRequest = FastifyRequest & { apiKey?: KeyOwner };

export const Auth = createParamDecorator((_: unknown, ctx: ExecutionContext): KeyOwner => {
  return ctx.switchToHttp().getRequest<AuthedRequest>().apiKey!;
});

/** What a request costs in rate-limit tokens: one per event or generation of an ingest batch, else one. */
function costOf(body: unknown): number {
  const b = body as { events?: unknown; generations?: unknown } | undefined;
  const items = Array.isArray(b?.events) ? b.events : Array.isArray(b?.generations) ? b.generations : null;
  return items ? Math.max(1, items.length) : 1;
}

/**
 * Resolves `Authorization: Bearer <key>` to its project, then applies the project's rules: a deleted project is
 * refused, a browser origin must be one the project allows on its ingest routes, and the key's token bucket must
 * hold the request's cost. Lookups go through the KeyCache: a key revoked through another api process stops working
 * within API_KEY_CACHE_TTL_MS (through this one, at once), and the old key of a rotation stops at its expiry.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: KeyCache,
    @Inject(FLYWHEEL_CONFIG) private readonly config: FlywheelConfig,
    private readonly limiter: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const required = this.reflector.getAllAndOverride<KeyKind | undefined>(REQUIRED_KIND, [context.getHandler(), context.getClass()]);
    if (!required) return true;
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new FlywheelError('UNAUTHENTICATED', 'missing Authorization: Bearer <api key>');
    const owner = await this.keys.lookup(match[1]);
    if (!owner) throw new FlywheelError('UNAUTHENTICATED', 'unknown or revoked API key');
    if (owner.projectDeleted) throw new FlywheelError('PROJECT_DELETED', `project ${owner.projectId} was deleted; its keys no longer work`);
    if (required === 'secret' && owner.kind !== 'secret') {
      throw new FlywheelError('FORBIDDEN', 'this endpoint needs a secret key; ingest keys can only write events and generations');
    }
    const origin = request.headers.origin;
    if (required === 'ingest' && typeof origin === 'string') {
      const allowed = owner.allowedOrigins ?? this.config.api.cors.ingestOrigins;
      if (!originAllowed(allowed, origin)) {
        throw new FlywheelError('FORBIDDEN', `origin ${origin} is not among this project's allowedOrigins`, { details: { origin } });
      }
    }
    const cost = costOf(request.body);
    const taken = this.limiter.take(owner, cost);
    if (!taken.ok) {
      const limit = this.limiter.limitOf(owner);
      if (taken.tooLarge) {
        throw new FlywheelError('PAYLOAD_TOO_LARGE', `this request costs ${cost} tokens but this key's bucket holds ${limit.burst}: send smaller batches`, { details: { cost, burst: limit.burst } });
      }
      context.switchToHttp().getResponse<FastifyReply>().header('Retry-After', String(taken.retryAfterSeconds));
      throw new FlywheelError('RATE_LIMITED', `rate limit of this ${owner.kind} key exceeded (${limit.perSecond}/s, burst ${limit.burst}); nothing was accepted, retry after ${taken.retryAfterSeconds} s`, {
        details: { retryAfterSeconds: taken.retryAfterSeconds, perSecond: limit.perSecond, burst: limit.burst },
      });
    }
    request.apiKey = owner;
    return true;
  }

}
