import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { FastifyRequest } from 'fastify';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { KeyKind, KeyOwner, ProjectsRepository, hashKey } from '@flywheel/database';
import { FlywheelError } from '@flywheel/errors';

const REQUIRED_KIND = 'flywheel:requiredKeyKind';

/** `ingest`: either key may call (ingest keys are write-only). `secret`: only a secret key. */
export const RequireKey = (kind: KeyKind) => SetMetadata(REQUIRED_KIND, kind);

type AuthedRequest = FastifyRequest & { apiKey?: KeyOwner };

export const Auth = createParamDecorator((_: unknown, ctx: ExecutionContext): KeyOwner => {
  return ctx.switchToHttp().getRequest<AuthedRequest>().apiKey!;
});

/**
 * Resolves `Authorization: Bearer <key>` to its project. Lookups are cached for API_KEY_CACHE_TTL_MS so the hot
 * ingest path does not hit the database per request; a revoked key stops working within that time.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly cache = new Map<string, { owner: KeyOwner | null; expires: number }>();

  constructor(
    private readonly reflector: Reflector,
    private readonly projects: ProjectsRepository,
    @Inject(FLYWHEEL_CONFIG) private readonly config: FlywheelConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const required = this.reflector.getAllAndOverride<KeyKind | undefined>(REQUIRED_KIND, [context.getHandler(), context.getClass()]);
    if (!required) return true;
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new FlywheelError('UNAUTHENTICATED', 'missing Authorization: Bearer <api key>');
    const owner = await this.lookup(match[1]);
    if (!owner) throw new FlywheelError('UNAUTHENTICATED', 'unknown or revoked API key');
    if (required === 'secret' && owner.kind !== 'secret') {
      throw new FlywheelError('FORBIDDEN', 'this endpoint needs a secret key; ingest keys can only write events and generations');
    }
    request.apiKey = owner;
    return true;
  }

  private async lookup(key: string): Promise<KeyOwner | null> {
    const hash = hashKey(key);
    const id = hash.toString('base64');
    const now = Date.now();
    const cached = this.cache.get(id);
    if (cached && cached.expires > now) return cached.owner;
    const owner = await this.projects.findKeyOwner(hash);
    if (this.cache.size > 10000) this.cache.clear();
    this.cache.set(id, { owner, expires: now + (owner ? this.config.api.keyCacheTtlMs : 1000) });
    return owner;
  }
}
