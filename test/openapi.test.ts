import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';
import { AppProcess, ROOT, TestContext, call, waitFor } from './support/harness';
import { registerRandomModel } from './support/reward-models';

const ADMIN_TOKEN = 'test-admin-token-openapi-0123456789';
const CLIENT_DIR = path.join(ROOT, 'test/fixtures/openapi-client');
const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

type Schema = Record<string, unknown>;
type Operation = { responses: Record<string, { content?: Record<string, { schema?: Schema }> }>; security?: Record<string, string[]>[] };
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };

/**
 * OpenAPI 3.0 schema → JSON Schema for Ajv: `nullable` becomes a null alternative, references point into the
 * registered components, and an object that lists its properties gets no others (so a field a route returns that
 * its schema does not document fails here). Inside allOf the parts are left open: each part sees only its own.
 */
function toJsonSchema(schema: unknown, closed = true): unknown {
  if (Array.isArray(schema)) return schema.map((s) => toJsonSchema(s, closed));
  if (!schema || typeof schema !== 'object') return schema;
  const source = schema as Schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === 'nullable' || key === 'example') continue;
    if (key === '$ref') out.$ref = `openapi${value as string}`;
    else if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, toJsonSchema(v, closed)]));
    else out[key] = toJsonSchema(value, key === 'allOf' ? false : closed);
  }
  if (closed && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return source.nullable ? { anyOf: [out, { type: 'null' }] } : out;
}

/** Checks answers against the document: the status must be documented for the operation, the body must fit its schema. */
class ResponseChecker {
  private readonly ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  readonly checked = new Set<string>();

  constructor(private readonly document: Document) {
    this.ajv.addSchema({ $id: 'openapi', components: { schemas: toJsonSchema(document.components.schemas) } });
  }

  problems(method: string, template: string, answer: { status: number; body: unknown; headers: Headers }): string[] {
    const operation = this.document.paths[template]?.[method.toLowerCase()];
    if (!operation) return [`${method} ${template} is not documented`];
    const response = operation.responses[String(answer.status)];
    if (!response) return [`${method} ${template} answered ${answer.status}, which it does not document (${JSON.stringify(answer.body).slice(0, 300)})`];
    this.checked.add(`${method} ${template} ${answer.status}`);
    const type = (answer.headers.get('content-type') ?? '').split(';')[0];
    const media = Object.entries(response.content ?? {}).find(([name]) => name.split(';')[0] === type);
    if (!media) return [`${method} ${template} ${answer.status}: content type ${type} is not documented`];
    if (type !== 'application/json') return [];
    const key = `${method} ${template} ${answer.status}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(media[1].schema) as Schema);
      this.compiled.set(key, validate);
    }
    return validate(answer.body) ? [] : [`${key}: ${this.ajv.errorsText(validate.errors)} in ${JSON.stringify(answer.body).slice(0, 400)}`];
  }
}

/**
 * The served OpenAPI document against the running api: valid, its security what the guards do, and real answers
 * of the routes (successes and errors) fitting their documented schemas; then a TypeScript client generated from it
 * (openapi-typescript) compiled with tsc and run against the api.
 */
describe('the OpenAPI document against the running api', () => {
  const ctx = new TestContext('openapi');
  let api: AppProcess;
  let document: Document;
  let checker: ResponseChecker;
  let project: { projectId: string; ingestKey: string; secretKey: string };

  beforeAll(async () => {
    await ctx.setUp();
    [api] = await Promise.all([ctx.startApi({ FLYWHEEL_ADMIN_TOKEN: ADMIN_TOKEN }), ctx.startWorker()]);
    const served = await call('GET', `${api.url}/docs/openapi.json`, null);
    expect(served.status).toBe(200);
    document = served.body;
    checker = new ResponseChecker(document);
    const created = await call('POST', `${api.url}/v1/admin/projects`, ADMIN_TOKEN, { name: 'openapi', featureDim: 4 });
    expect(created.status).toBe(201);
    project = created.body;
  }, 90000);
  afterAll(() => ctx.tearDown(), 30000);

  /** Calls a route by its documented path template and checks the answer against the document. */
  async function documented(method: string, template: string, token: string | null, options: { params?: Record<string, string>; query?: string; body?: unknown } = {}) {
    const url = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(options.params?.[name] ?? NO_SUCH_ID));
    const answer = await call(method, `${api.url}${url}${options.query ? `?${options.query}` : ''}`, token, options.body);
    expect(checker.problems(method, template, answer)).toEqual([]);
    return answer;
  }

  const operations = () => Object.entries(document.paths).flatMap(([template, item]) => Object.entries(item).map(([method, operation]) => ({ method: method.toUpperCase(), template, operation })));

  it('serves the document it builds, with the api-key and admin-token schemes', () => {
    expect(Object.keys((document as unknown as { components: { securitySchemes: object } }).components.securitySchemes).sort()).toEqual(['adminToken', 'ingestKey', 'secretKey']);
    expect(operations().length).toBeGreaterThan(30);
  });

  it('documents what the guards do: a secured route refuses no key (401), a secret route an ingest key (403), public routes need none', async () => {
    for (const { method, template, operation } of operations()) {
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      const anonymous = await documented(method, template, null, { body });
      const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
      if (schemes.length === 0) expect(`${method} ${template} ${anonymous.status}`).not.toMatch(/ 40[13]$/);
      else expect(`${method} ${template} ${anonymous.status} ${anonymous.body.error.code}`).toBe(`${method} ${template} 401 UNAUTHENTICATED`);
      if (schemes.length > 0) {
        const withIngestKey = await documented(method, template, project.ingestKey, { body });
        const expected = schemes.includes('ingestKey') ? [200, 202, 400] : schemes.includes('adminToken') ? [401] : [403];
        expect(`${method} ${template} ${expected.includes(withIngestKey.status)}`).toBe(`${method} ${template} true`);
      }
    }
  }, 60000);

  it('answers what it documents: successes and errors of the routes fit their schemas', async () => {
    const secret = project.secretKey;
    const admin = (method: string, template: string, options = {}) => documented(method, template, ADMIN_TOKEN, options);
    const generations = [0, 1].map((i) => ({
      videoId: `oa-v${i}`, requestId: 'oa-r1', prompt: 'a cat on a skateboard', model: 'seedance', modelVersion: '1.0', features: [i, 0.5, -1, 2],
    }));
    await expect(documented('POST', '/v1/generations', project.ingestKey, { body: { generations } })).resolves.toMatchObject({ status: 202 });
    const events = [
      { eventId: 'oa-e1', type: 'like', videoId: 'oa-v0', userId: 'oa-u1', occurredAt: '2026-11-01T12:00:00Z' },
      { eventId: 'oa-e2', type: 'progress', videoId: 'oa-v0', userId: 'oa-u1', occurredAt: '2026-11-01T12:00:01Z', watchMs: 4000, durationMs: 8000 },
      { eventId: 'oa-e3', type: 'rate', videoId: 'oa-v0', userId: 'oa-u2', occurredAt: '2026-11-01T12:00:02Z', rating: 4, dimension: 'visual_quality' },
      { eventId: 'oa-e4', type: 'dislike', videoId: 'oa-v1', userId: 'oa-u2', occurredAt: '2026-11-01T12:00:03Z' },
    ];
    await expect(documented('POST', '/v1/events', project.ingestKey, { body: { events } })).resolves.toMatchObject({ status: 202 });
    await documented('POST', '/v1/events', project.ingestKey, { body: { events: [{ ...events[0], rating: 9 }] } });
    await documented('POST', '/v1/events', project.ingestKey, { body: '{"events": [' as unknown });

    await waitFor(async () => (await call('GET', `${api.url}/v1/videos/oa-v0`, secret)).body?.signals?.liked === 1, 30000, 'the events stored');
    await expect(documented('GET', '/v1/videos/{videoId}', secret, { params: { videoId: 'oa-v0' } })).resolves.toMatchObject({ status: 200 });
    await expect(documented('GET', '/v1/videos/{videoId}', secret, { params: { videoId: 'oa-v1' } })).resolves.toMatchObject({ status: 200 });
    await expect(documented('GET', '/v1/videos/{videoId}', secret, { params: { videoId: 'no-such-video' } })).resolves.toMatchObject({ status: 404 });

    await expect(documented('GET', '/v1/project', secret)).resolves.toMatchObject({ status: 200 });
    await expect(documented('PATCH', '/v1/project', secret, { body: { allowedOrigins: ['https://editor.example.com'] } })).resolves.toMatchObject({ status: 200 });
    await documented('PATCH', '/v1/project', secret, { body: { allowedOrigins: ['not an origin'] } });
    const keys = await documented('GET', '/v1/project/keys', secret);
    const secretKeyId = keys.body.keys.find((k: { kind: string }) => k.kind === 'secret').keyId;
    await expect(documented('DELETE', '/v1/project/keys/{keyId}', secret, { params: { keyId: secretKeyId } })).resolves.toMatchObject({ status: 409 });
    const extra = await documented('POST', '/v1/project/keys', secret, { body: { kind: 'ingest' } });
    const rotated = await documented('POST', '/v1/project/keys/{keyId}/rotate', secret, { params: { keyId: extra.body.keyId }, body: { overlapSeconds: 0 } });
    expect(rotated.status).toBe(201);
    await expect(documented('DELETE', '/v1/project/keys/{keyId}', secret, { params: { keyId: rotated.body.keyId } })).resolves.toMatchObject({ status: 200 });
    await expect(documented('DELETE', '/v1/project/keys/{keyId}', secret)).resolves.toMatchObject({ status: 404 });
    await documented('DELETE', '/v1/project/keys/{keyId}', secret, { params: { keyId: 'not-a-uuid' } });

    for (const template of ['/v1/metrics/satisfaction', '/v1/metrics/videos', '/v1/metrics/dimensions']) {
      await expect(documented('GET', template, secret, { query: 'from=2026-10-25T00:00:00Z&to=2026-11-05T00:00:00Z' })).resolves.toMatchObject({ status: 200 });
    }
    await expect(documented('GET', '/v1/metrics/compare', secret, { query: 'baseline=1.0&candidate=1.1&from=2026-10-25T00:00:00Z' })).resolves.toMatchObject({ status: 200 });
    await documented('GET', '/v1/metrics/satisfaction', secret, { query: 'granularity=week' });
    await expect(documented('PUT', '/v1/metrics/traffic-splits', secret, { body: { baseline: '1.0', candidate: '1.1', split: '90:10' } })).resolves.toMatchObject({ status: 200 });
    await documented('PUT', '/v1/metrics/traffic-splits', secret, { body: { baseline: '1.0', candidate: '1.1', split: 'half' } });
    await expect(documented('GET', '/v1/metrics/traffic-splits', secret)).resolves.toMatchObject({ status: 200 });
    await expect(documented('GET', '/v1/metrics/compare', secret, { query: 'baseline=1.0&candidate=1.1&from=2026-10-25T00:00:00Z' })).resolves.toMatchObject({ status: 200, body: { srm: { source: 'declared' } } });
    await expect(documented('DELETE', '/v1/metrics/traffic-splits', secret, { query: 'baseline=1.0&candidate=1.1' })).resolves.toMatchObject({ status: 200 });
    await expect(documented('DELETE', '/v1/metrics/traffic-splits', secret, { query: 'baseline=1.0&candidate=1.1' })).resolves.toMatchObject({ status: 404 });
    // Per rating dimension: a point with the dimension's metrics (the other branch of `metrics`), compare, videos, a 400.
    const window = 'from=2026-10-25T00:00:00Z&to=2026-11-05T00:00:00Z';
    const byDimension = await documented('GET', '/v1/metrics/satisfaction', secret, { query: `${window}&dimension=visual_quality` });
    expect(byDimension).toMatchObject({ status: 200, body: { dimension: 'visual_quality', series: [{ n: 1, metrics: { rating: { value: 4 } } }] } });
    await expect(documented('GET', '/v1/metrics/compare', secret, { query: `baseline=1.0&candidate=1.1&${window}&dimension=visual_quality` })).resolves.toMatchObject({ status: 200 });
    await expect(documented('GET', '/v1/metrics/videos', secret, { query: 'dimension=visual_quality' })).resolves.toMatchObject({ status: 200, body: { best: [{ videoId: 'oa-v0', n: 1 }] } });
    await expect(documented('GET', '/v1/metrics/satisfaction', secret, { query: 'dimension=aesthetics' })).resolves.toMatchObject({ status: 400 });

    await expect(documented('POST', '/v1/score', secret, { body: { candidates: [{ videoId: 'oa-v0' }] } })).resolves.toMatchObject({ status: 409 });
    await documented('POST', '/v1/score', secret, { body: { candidates: [] } });
    await expect(documented('POST', '/v1/rewards', secret, { body: { candidates: [{ prompt: 'a cat', group: 1, videoId: 'oa-v0' }] } })).resolves.toMatchObject({ status: 409 });
    await documented('POST', '/v1/rewards', secret, { body: { candidates: [{ prompt: 'a cat', group: 1.5, features: [1, 2] }] } });
    await expect(documented('GET', '/v1/models', secret)).resolves.toMatchObject({ status: 200, body: [] });
    await expect(documented('GET', '/v1/models/{id}', secret)).resolves.toMatchObject({ status: 404 });
    await documented('GET', '/v1/models/{id}/card.md', secret);
    await documented('GET', '/v1/models/{id}/onnx', secret);
    await documented('POST', '/v1/models/{id}/promote', secret, { body: {} });
    const job = await documented('POST', '/v1/models/train', secret, { body: { kind: 'linear', seed: 1 } });
    expect(job.status).toBe(202);
    await expect(documented('GET', '/v1/models/jobs/{id}', secret, { params: { id: job.body.id } })).resolves.toMatchObject({ status: 200 });

    const set = await documented('POST', '/v1/preference-sets', secret, { body: { minMargin: 0.1 } });
    expect(set.status).toBe(202);
    const id = { id: set.body.id };
    await expect(documented('GET', '/v1/preference-sets/{id}', secret, { params: id })).resolves.toMatchObject({ status: 200 });
    await expect(documented('GET', '/v1/preference-sets', secret)).resolves.toMatchObject({ status: 200 });
    await expect(documented('GET', '/v1/preference-sets/{id}/export', secret, { params: id, query: 'format=dpo-jsonl' })).resolves.toMatchObject({ status: 409 });
    await documented('GET', '/v1/preference-sets/{id}/export', secret, { params: id, query: 'format=tarball' });
    await expect(documented('POST', '/v1/preference-sets/{id}/publish', secret, { params: id })).resolves.toMatchObject({ status: 409 });
    await expect(documented('GET', '/v1/preference-sets/{id}/publications', secret, { params: id })).resolves.toMatchObject({ status: 200, body: [] });
    await expect(documented('GET', '/v1/preference-sets/{id}/publications/{publicationId}', secret, { params: id })).resolves.toMatchObject({ status: 404 });
    await expect(documented('POST', '/v1/generators', secret, { body: { model: 'seedance', modelVersion: '1.1', trainedOn: [set.body.id] } })).resolves.toMatchObject({ status: 201 });
    await expect(documented('GET', '/v1/generators', secret)).resolves.toMatchObject({ status: 200 });

    // Both scoring routes' answers with a production model (put straight into the registry), heads and advantages.
    await registerRandomModel(ctx.db, project.projectId, 4, { dimensions: ['visual_quality', 'motion_quality', 'text_alignment'] });
    const candidates = [{ prompt: 'a cat', group: 'g', videoId: 'oa-v0' }, { prompt: 'a cat', group: 'g', features: [1, 0, 0.5, -1] }];
    await expect(documented('POST', '/v1/rewards', secret, { body: { candidates, advantages: true } })).resolves.toMatchObject({ status: 200 });
    await expect(documented('POST', '/v1/score', secret, { body: { candidates: [{ videoId: 'oa-v0' }] } })).resolves.toMatchObject({ status: 200 });

    await expect(admin('GET', '/v1/admin/projects')).resolves.toMatchObject({ status: 200 });
    const other = await admin('POST', '/v1/admin/projects', { body: { name: 'openapi-other', featureDim: 2, rateLimits: { ingest: { perSecond: 5, burst: 10 } } } });
    const otherId = { projectId: other.body.projectId };
    await expect(admin('PATCH', '/v1/admin/projects/{projectId}', { params: otherId, body: { allowedOrigins: null } })).resolves.toMatchObject({ status: 200 });
    await expect(admin('POST', '/v1/admin/projects/{projectId}/keys', { params: otherId, body: { kind: 'secret' } })).resolves.toMatchObject({ status: 201 });
    const forgotten = await documented('DELETE', '/v1/users/{userId}', other.body.secretKey, { params: { userId: 'someone' } });
    expect([200, 202]).toContain(forgotten.status);
    const audit = await documented('GET', '/v1/deletions', other.body.secretKey);
    await expect(documented('GET', '/v1/deletions/{jobId}', other.body.secretKey, { params: { jobId: audit.body.deletions[0].jobId } })).resolves.toMatchObject({ status: 200 });
    const deleted = await admin('DELETE', '/v1/admin/projects/{projectId}', { params: otherId });
    expect([200, 202]).toContain(deleted.status); // 202 while its data is still being removed
    await expect(admin('GET', '/v1/admin/deletions/{jobId}', { params: { jobId: deleted.body.jobId } })).resolves.toMatchObject({ status: 200 });
    await expect(documented('GET', '/v1/project', other.body.secretKey)).resolves.toMatchObject({ status: 410 });
    await expect(admin('DELETE', '/v1/admin/projects/{projectId}')).resolves.toMatchObject({ status: 404 });
    await expect(documented('GET', '/health/live', null)).resolves.toMatchObject({ status: 200 });
    await expect(documented('GET', '/health/ready', null)).resolves.toMatchObject({ status: 200 });
    expect(checker.checked.size).toBeGreaterThan(60);
  }, 90000);

  it('answers what it documents when a model serves: scores, rewards, the registry and a promotion', async () => {
    const secret = project.secretKey;
    const production = await registerRandomModel(ctx.db, project.projectId, 4, { hidden: [3], dimensions: ['visual_quality', 'motion_quality', 'text_alignment'] });
    const candidate = await registerRandomModel(ctx.db, project.projectId, 4, { seed: 11, promote: false });
    await waitFor(async () => (await call('POST', `${api.url}/v1/score`, secret, { candidates: [{ features: [0, 0, 0, 0] }] })).status === 200, 10000, 'the model loaded');
    await expect(documented('POST', '/v1/score', secret, { body: { candidates: [{ videoId: 'oa-v0' }, { features: [1, 2, 3, 4] }] } })).resolves.toMatchObject({ status: 200 });
    await expect(documented('POST', '/v1/score', secret, { body: { candidates: [{ features: [1, 2, 3, 4] }], modelId: candidate.id } })).resolves.toMatchObject({ status: 200 });
    const rollouts = [0, 1, 2, 3].map((i) => ({ prompt: `p${i % 2}`, group: i % 2, features: [i, -i, 0.5, 1] }));
    await expect(documented('POST', '/v1/rewards', secret, { body: { candidates: rollouts, advantages: true } })).resolves.toMatchObject({ status: 200 });
    await documented('POST', '/v1/rewards', secret, { body: { candidates: [{ prompt: 'p', features: [1, 2, 3, 4] }] } });
    await expect(documented('GET', '/v1/models', secret)).resolves.toMatchObject({ status: 200 });
    await expect(documented('GET', '/v1/models/{id}', secret, { params: { id: production.id } })).resolves.toMatchObject({ status: 200 });
    await expect(documented('GET', '/v1/models/{id}/card.md', secret, { params: { id: production.id } })).resolves.toMatchObject({ status: 200 });
    await expect(documented('GET', '/v1/models/{id}/onnx', secret, { params: { id: production.id } })).resolves.toMatchObject({ status: 200 });
    await expect(documented('POST', '/v1/models/{id}/promote', secret, { params: { id: production.id }, body: {} })).resolves.toMatchObject({ status: 409 });
    await documented('POST', '/v1/models/{id}/promote', secret, { params: { id: candidate.id }, body: { force: true } });
    await expect(documented('POST', '/v1/models/{id}/promote', secret, { params: { id: candidate.id }, body: { force: true, reason: 'the openapi test' } }))
      .resolves.toMatchObject({ status: 200, body: { promoted: true } });
  }, 60000);

  it('generates a TypeScript client from it that compiles with tsc and calls the api', async () => {
    const documentFile = path.join(CLIENT_DIR, 'openapi.json');
    fs.writeFileSync(documentFile, JSON.stringify(document));
    try {
      const generate = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/openapi-typescript/bin/cli.js'), documentFile, '-o', path.join(CLIENT_DIR, 'flywheel-api.d.ts')], { cwd: ROOT, encoding: 'utf8' });
      expect(generate.status === 0 ? 'generated' : generate.stderr).toBe('generated');
    } finally {
      fs.rmSync(documentFile);
    }
    const compile = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(CLIENT_DIR, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
    expect(compile.status === 0 ? 'compiled' : compile.stdout + compile.stderr).toBe('compiled');

    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a static import would make the repository's tsc need the generated types
    const { typedCalls } = require('./fixtures/openapi-client/call-site') as { typedCalls: (url: string, keys: object) => Promise<unknown> };
    await expect(typedCalls(api.url, project)).resolves.toEqual({
      events: { status: 202, accepted: 1 },
      project: { status: 200, featureDim: 4, dimensions: ['visual_quality', 'motion_quality', 'text_alignment'] },
      missing: { status: 404, code: 'NOT_FOUND' },
      refused: { status: 403, code: 'FORBIDDEN' },
    });
  }, 90000);
});
