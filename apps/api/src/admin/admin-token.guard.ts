import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable, UseGuards, applyDecorators } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { FlywheelError } from '@flywheel/errors';
import { DocumentAuth } from '../openapi/openapi.decorators';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Admin routes take `Authorization: Bearer <FLYWHEEL_ADMIN_TOKEN>`; without that setting they are switched off. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(FLYWHEEL_CONFIG) config: FlywheelConfig) {
    this.expected = config.api.adminToken ? digest(config.api.adminToken) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) throw new FlywheelError('FORBIDDEN', 'the admin API is switched off: set FLYWHEEL_ADMIN_TOKEN on the api');
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new FlywheelError('UNAUTHENTICATED', 'missing Authorization: Bearer <admin token>');
    // Compare digests: equal lengths, and no timing signal about the token's prefix.
    if (!timingSafeEqual(digest(match[1]), this.expected)) throw new FlywheelError('UNAUTHENTICATED', 'wrong admin token');
    return true;
  }
}

/** Admin routes: the guard and what the OpenAPI document says of it. */
export const AdminOnly = () => applyDecorators(UseGuards(AdminTokenGuard), DocumentAuth('admin'));
