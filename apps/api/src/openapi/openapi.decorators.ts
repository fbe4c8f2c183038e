import { applyDecorators } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { ErrorCode } from '@flywheel/errors';

/**
 * Who may call a route, as the document says it: `ingest` (an ingest or a secret key), `secret` (a secret key only),
 * `admin` (the admin token) or `none` (public). RequireKey, AdminOnly and Public set it next to the guard they
 * document, so the document follows the code; openapi-document.ts turns it into `security` and the refusals the
 * guard can answer.
 */
export type RouteAuth = 'ingest' | 'secret' | 'admin' | 'none';

export const AUTH_EXTENSION = 'x-flywheel-auth';
export const ERROR_EXTENSION_PREFIX = 'x-flywheel-error-';

/**
 * On a controller or a route: who may call it. On a controller it applies to every route that does not say
 * otherwise (swagger's extensions keep a route's own value).
 */
export const DocumentAuth = (auth: RouteAuth) => ApiExtension(AUTH_EXTENSION, auth);

/** A public route (no key): health checks. */
export const Public = () => DocumentAuth('none');

/**
 * The error codes a route (or every route of a controller) answers besides those every route or its guard can
 * answer: `@ApiErrors('NOT_FOUND', 'CONFLICT')`. Statuses come from ERROR_CODES; openapi-document.ts writes one
 * response per status with the error body and the codes it can carry.
 */
export const ApiErrors = (...codes: ErrorCode[]) => applyDecorators(...codes.map((code) => ApiExtension(`${ERROR_EXTENSION_PREFIX}${code}`, true)));
