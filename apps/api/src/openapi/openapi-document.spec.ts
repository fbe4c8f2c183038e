import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { OpenAPIObject } from '@nestjs/swagger';
import { ERROR_CODES } from '@flywheel/errors';
import { RegisteredRoute, openApiPreview } from './openapi-preview';

type Response = { description?: string; content?: Record<string, { schema?: Record<string, unknown> }> };
type Operation = { responses: Record<string, Response>; security?: Record<string, string[]>[]; requestBody?: unknown };

/** Routes left out of the document on purpose: an HTML page and Prometheus text, not an API (README "Endpoints"). */
const NOT_API = new Set(['GET /dashboard', 'GET /metrics']);

/**
 * Routes whose success response has no schema yet. This list only shrinks: a route on it that gains one fails the
 * test until it is taken off, and a new route is never on it.
 */
const SUCCESS_SCHEMA_PENDING = new Set<string>([]);

/**
 * swagger-parser's verdict on a document: the OpenAPI 3.0 schema and every $ref resolving. In a child process: its
 * parser is an ES module, which jest's CommonJS runtime cannot load.
 */
function validateOpenApi(document: object): { ok: boolean; output: string } {
  const script = "import SwaggerParser from '@apidevtools/swagger-parser'; let text = ''; for await (const c of process.stdin) text += c;"
    + ' await SwaggerParser.validate(JSON.parse(text)); console.log("valid");';
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: path.resolve(__dirname, '../../../..'), input: JSON.stringify(document), encoding: 'utf8',
  });
  return { ok: run.status === 0 && run.stdout.trim() === 'valid', output: `${run.stdout}${run.stderr}` };
}

/** Routes that write without a body: everything else that POSTs, PUTs or PATCHes must document its request body. */
const BODYLESS_WRITES = new Set(['POST /v1/preference-sets/{id}/publish']);

const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const hasSchema = (response: Response | undefined) => Object.values(response?.content ?? {}).some((media) => media.schema && Object.keys(media.schema).length > 0);
const refersTo = (schema: unknown, name: string): boolean => JSON.stringify(schema ?? null).includes(`"#/components/schemas/${name}"`);

describe('the OpenAPI document', () => {
  let document: OpenAPIObject;
  let routes: RegisteredRoute[];

  beforeAll(async () => {
    ({ document, routes } = await openApiPreview());
  }, 60000);

  /** Every API route Nest registers, as `METHOD /openapi/{path}` (HEAD routes are Fastify's copies of GET ones). */
  const apiRoutes = () => [...new Set(routes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS')
    .map((r) => `${r.method} ${openApiPath(r.url)}`))].filter((route) => !NOT_API.has(route)).sort();
  const operationOf = (route: string): Operation | undefined => {
    const [method, path] = route.split(' ');
    return (document.paths[path] as Record<string, Operation> | undefined)?.[method.toLowerCase()];
  };

  it('is a valid OpenAPI 3 document (swagger-parser: the OpenAPI schema, every reference resolving)', async () => {
    expect(validateOpenApi(document)).toEqual({ ok: true, output: 'valid\n' });
    // and it can fail: a response without its description, a reference to nothing
    const broken = structuredClone(document) as unknown as { paths: Record<string, Record<string, { responses: Record<string, object> }>> };
    broken.paths['/v1/models/{id}'].get.responses['404'] = { content: {} };
    expect(validateOpenApi(broken).ok).toBe(false);
    expect(validateOpenApi({ ...document, components: { ...document.components, schemas: {} } }).ok).toBe(false);
  });

  it('documents every route Nest registers, and nothing else', () => {
    const registered = apiRoutes();
    expect(registered.length).toBeGreaterThan(30);
    const documented = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item)
      .filter((method) => ['get', 'put', 'post', 'delete', 'patch'].includes(method)).map((method) => `${method.toUpperCase()} ${path}`)).sort();
    expect(documented).toEqual(registered);
  });

  it('gives every route a success response with a schema, its error responses with the error body, its security, and a write its request body', () => {
    const problems: string[] = [];
    for (const route of apiRoutes()) {
      const operation = operationOf(route)!;
      const success = Object.entries(operation.responses).filter(([status]) => /^2\d\d$/.test(status));
      const documented = success.some(([, response]) => hasSchema(response));
      if (!documented && !SUCCESS_SCHEMA_PENDING.has(route)) problems.push(`${route}: no success response with a schema`);
      if (documented && SUCCESS_SCHEMA_PENDING.has(route)) problems.push(`${route}: documented now, take it off SUCCESS_SCHEMA_PENDING`);
      const errors = Object.entries(operation.responses).filter(([status]) => /^[45]\d\d$/.test(status));
      if (!errors.some(([status]) => status.startsWith('4'))) problems.push(`${route}: no 4xx response`);
      for (const [status, response] of errors) {
        if (!hasSchema(response)) problems.push(`${route}: ${status} has no schema`);
      }
      if (!errors.some(([, response]) => refersTo(response.content, 'ErrorBody'))) problems.push(`${route}: no response with the error body`);
      if (/^(POST|PUT|PATCH) /.test(route) && !BODYLESS_WRITES.has(route)) {
        const body = operation.requestBody as { content?: Record<string, { schema?: Record<string, unknown> }> } | undefined;
        if (!Object.values(body?.content ?? {}).some((media) => media.schema && Object.keys(media.schema).length > 0)) problems.push(`${route}: no request body schema`);
      }
      if (!Array.isArray(operation.security)) problems.push(`${route}: no security (RequireKey, AdminOnly or Public)`);
      for (const requirement of operation.security ?? []) {
        for (const scheme of Object.keys(requirement)) {
          if (!document.components?.securitySchemes?.[scheme]) problems.push(`${route}: unknown security scheme ${scheme}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('documents each error status with exactly the codes of ERROR_CODES that have it', () => {
    for (const route of apiRoutes()) {
      for (const [status, response] of Object.entries(operationOf(route)!.responses)) {
        const schema = response.content?.['application/json']?.schema as { allOf?: { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } }[] } | undefined;
        const codes = schema?.allOf?.[1]?.properties?.error?.properties?.code?.enum;
        if (!codes) continue;
        expect(codes.length).toBeGreaterThan(0);
        for (const code of codes) expect(`${route} ${status} ${code}`).toBe(`${route} ${ERROR_CODES[code as keyof typeof ERROR_CODES].status} ${code}`);
      }
    }
  });

  it('uses bearer API keys and the admin token, not JWT', () => {
    const schemes = document.components!.securitySchemes as Record<string, { type: string; scheme?: string; bearerFormat?: string }>;
    expect(Object.keys(schemes).sort()).toEqual(['adminToken', 'ingestKey', 'secretKey']);
    for (const scheme of Object.values(schemes)) expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(JSON.stringify(schemes)).not.toMatch(/JWT/i);
    expect(operationOf('POST /v1/events')!.security).toEqual([{ ingestKey: [] }, { secretKey: [] }]);
    expect(operationOf('GET /v1/models')!.security).toEqual([{ secretKey: [] }]);
    expect(operationOf('POST /v1/admin/projects')!.security).toEqual([{ adminToken: [] }]);
    expect(operationOf('GET /health/live')!.security).toEqual([]);
  });
});
