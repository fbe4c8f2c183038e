import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode, isErrorCode } from '@flywheel/errors';
import { MAX_ERROR_DETAILS } from '../errors/error-body';
import { AUTH_EXTENSION, ERROR_EXTENSION_PREFIX, RouteAuth } from './openapi.decorators';

type Operation = Record<string, unknown> & {
  responses: Record<string, { description?: string; content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
  requestBody?: unknown;
  security?: Record<string, string[]>[];
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export const SECURITY_SCHEMES = {
  ingestKey: {
    type: 'http', scheme: 'bearer', bearerFormat: 'fw_ingest_…',
    description: "An ingest key of a project (`Authorization: Bearer fw_ingest_…`): write-only, it can post events and generations and nothing else, so it is safe to ship in an app. A secret key works on those routes too.",
  },
  secretKey: {
    type: 'http', scheme: 'bearer', bearerFormat: 'fw_secret_…',
    description: "A secret key of a project (`Authorization: Bearer fw_secret_…`): reads, exports, trains and administers the project's keys. Keep it on servers.",
  },
  adminToken: {
    type: 'http', scheme: 'bearer',
    description: 'The operator\'s bootstrap token, FLYWHEEL_ADMIN_TOKEN of the api (`Authorization: Bearer <token>`): creates, changes and deletes projects. Without that setting the admin routes answer 403.',
  },
} as const;

const SECURITY: Record<RouteAuth, Record<string, string[]>[]> = {
  ingest: [{ ingestKey: [] }, { secretKey: [] }],
  secret: [{ secretKey: [] }],
  admin: [{ adminToken: [] }],
  none: [],
};

/**
 * What a route's guard can refuse, by who may call it (ApiKeyGuard, AdminTokenGuard): no or an unknown key (401),
 * the wrong kind of key or a browser origin the project does not allow (403), a deleted project (410), over the
 * key's token bucket (429; an ingest batch larger than the bucket: 413), and the key lookup's database (503).
 */
const AUTH_ERRORS: Record<RouteAuth, ErrorCode[]> = {
  ingest: ['UNAUTHENTICATED', 'FORBIDDEN', 'PROJECT_DELETED', 'RATE_LIMITED', 'PAYLOAD_TOO_LARGE', 'DATABASE_UNAVAILABLE'],
  secret: ['UNAUTHENTICATED', 'FORBIDDEN', 'PROJECT_DELETED', 'RATE_LIMITED', 'DATABASE_UNAVAILABLE'],
  admin: ['UNAUTHENTICATED', 'FORBIDDEN', 'DATABASE_UNAVAILABLE'],
  none: [],
};

/** Every route: text PostgreSQL cannot store in the path or query, or a path the router refuses (400), and a bug (500). */
const EVERY_ROUTE: ErrorCode[] = ['VALIDATION_FAILED', 'INTERNAL'];
/** Every route with a body: an invalid or unparseable body (400), over API_BODY_LIMIT_BYTES (413), not JSON (415). */
const WITH_BODY: ErrorCode[] = ['VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];

const RETRY_AFTER = { description: 'Seconds to wait before retrying', schema: { type: 'integer' } };

/** The one error body of the api (errors/error-body.ts). */
export const ERROR_SCHEMAS = {
  FieldProblem: {
    type: 'object',
    required: ['field', 'problems'],
    properties: {
      field: { type: 'string', example: 'events[3].rating', description: 'The field, as a path into the request (`path` and `body` for the whole of them)' },
      problems: { type: 'array', items: { type: 'string' }, example: ['events[3].rating must not be greater than 5'] },
    },
  },
  ErrorBody: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message', 'details'],
        properties: {
          code: { type: 'string', enum: Object.keys(ERROR_CODES), description: 'Stable: what a client branches on' },
          message: { type: 'string', description: 'For people; clipped to 500 characters' },
          details: {
            description: `VALIDATION_FAILED: the field problems (at most ${MAX_ERROR_DETAILS}; the message counts the rest). Otherwise an object of facts, {} when there are none.`,
            oneOf: [
              { type: 'array', items: { $ref: '#/components/schemas/FieldProblem' }, maxItems: MAX_ERROR_DETAILS },
              { type: 'object', additionalProperties: true },
            ],
          },
        },
      },
    },
  },
};

/** The api's OpenAPI document: from the controllers' decorators, then finished by finishDocument. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Flywheel')
    .setDescription('Feedback ingestion, satisfaction metrics, reward models and preference sets for generative video. '
      + 'Every error is `{ error: { code, message, details } }` (schema ErrorBody); each operation lists the codes it can answer per status.')
    .setVersion('1');
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) builder.addSecurity(name, { ...scheme });
  return finishDocument(SwaggerModule.createDocument(app, builder.build()));
}

/**
 * Turns the decorators' extensions into OpenAPI: `security` from who may call a route, and one error response per
 * status (the ErrorBody narrowed to its codes) from the route's own codes, what its guard refuses and what every
 * route (with a body) can answer, statuses from ERROR_CODES. A response a route documents itself for a status is
 * kept, given the error body if it has no content.
 */
export function finishDocument(document: OpenAPIObject): OpenAPIObject {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...ERROR_SCHEMAS } as never };
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = (item as Record<string, Operation | undefined>)[method];
      if (operation) finishOperation(operation);
    }
  }
  return document;
}

function finishOperation(operation: Operation): void {
  const codes = new Set<ErrorCode>(EVERY_ROUTE);
  if (operation.requestBody) WITH_BODY.forEach((code) => codes.add(code));
  const auth = operation[AUTH_EXTENSION] as RouteAuth | undefined;
  delete operation[AUTH_EXTENSION];
  if (auth) {
    operation.security = SECURITY[auth];
    AUTH_ERRORS[auth].forEach((code) => codes.add(code));
  }
  for (const key of Object.keys(operation)) {
    if (!key.startsWith(ERROR_EXTENSION_PREFIX)) continue;
    const code = key.slice(ERROR_EXTENSION_PREFIX.length);
    if (!isErrorCode(code)) throw new Error(`@ApiErrors: ${code} is not in ERROR_CODES`);
    codes.add(code);
    delete operation[key];
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const own = operation.responses[String(status)];
    if (own?.content) continue;
    const description = own?.description ? `${own.description} (${list.join(', ')})` : list.join(', ');
    operation.responses[String(status)] = {
      description,
      ...(status === 429 || status === 503 ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
      content: { 'application/json': { schema: errorSchema(list) } },
    };
  }
}

/** ErrorBody whose `code` is one of these. */
export function errorSchema(codes: string[]): object {
  return {
    allOf: [
      { $ref: '#/components/schemas/ErrorBody' },
      { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code'], properties: { code: { type: 'string', enum: codes } } } } },
    ],
  };
}
