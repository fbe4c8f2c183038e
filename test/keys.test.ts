import { ProjectsRepository } from '@flywheel/database';
import { AppProcess, TestContext, call, waitFor } from './support/harness';

const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
const KEY_CACHE_TTL_MS = 3000;

/** Projects over HTTP with the admin token; a project's keys listed, created, revoked and rotated with its secret key. */
describe('keys and projects through the API', () => {
  const ctx = new TestContext('keys');
  let api: AppProcess;
  const event = (id: string) => ({ events: [{ eventId: id, type: 'like', videoId: 'v1', userId: 'u1', occurredAt: '2026-11-01T12:00:00Z' }] });

  beforeAll(async () => {
    await ctx.setUp();
    api = await ctx.startApi({ FLYWHEEL_ADMIN_TOKEN: ADMIN_TOKEN, API_KEY_CACHE_TTL_MS: String(KEY_CACHE_TTL_MS) });
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  const admin = (method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN) => call(method, `${api.url}/v1/admin/projects${path}`, token, body);
  const keys = (method: string, path: string, key: string, body?: unknown) => call(method, `${api.url}/v1/project/keys${path}`, key, body);
  const ingest = (key: string, id: string) => call('POST', `${api.url}/v1/events`, key, event(id));
  async function newProject(name: string) {
    const created = await admin('POST', '', { name, featureDim: 4 });
    expect(created.status).toBe(201);
    return created.body as { projectId: string; ingestKey: string; secretKey: string };
  }

  it('creates, lists and refuses projects by admin token', async () => {
    await expect(admin('POST', '', { name: 'x', featureDim: 4 }, null)).resolves.toMatchObject({ status: 401 });
    await expect(admin('POST', '', { name: 'x', featureDim: 4 }, 'not-the-admin-token-at-all')).resolves.toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    const bad = await admin('POST', '', { name: 'x', featureDim: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('featureDim');
    const badOrigin = await admin('POST', '', { name: 'x', featureDim: 4, allowedOrigins: ['https://a.example.com/path'] });
    expect(badOrigin.status).toBe(400);
    expect(badOrigin.body.error.details[0].field).toBe('allowedOrigins');

    const project = await newProject('over-http');
    expect(project.ingestKey).toMatch(/^fw_ingest_/);
    expect(project.secretKey).toMatch(/^fw_secret_/);
    await expect(ingest(project.ingestKey, 'a1')).resolves.toMatchObject({ status: 202 });
    const listed = await admin('GET', '');
    expect(listed.body.projects.map((p: { projectId: string }) => p.projectId)).toContain(project.projectId);
    // Another key for a project, by admin (e.g. its last secret key was lost).
    const extra = await admin('POST', `/${project.projectId}/keys`, { kind: 'secret' });
    expect(extra).toMatchObject({ status: 201, body: { kind: 'secret', key: expect.stringMatching(/^fw_secret_/) } });
    // An ingest key cannot reach the admin routes.
    await expect(admin('GET', '', undefined, project.ingestKey)).resolves.toMatchObject({ status: 401 });
  });

  it("sets a project's raw-event retention (days; null: forever) and names the field when it is not a whole number of days", async () => {
    const project = await newProject('retention');
    const listed = async () => (await admin('GET', '')).body.projects.find((p: { projectId: string }) => p.projectId === project.projectId);
    await expect(listed()).resolves.toMatchObject({ eventRetentionDays: null });
    for (const bad of [0, 1.5, 36501]) {
      const refused = await admin('PATCH', `/${project.projectId}`, { eventRetentionDays: bad });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details[0].field).toBe('eventRetentionDays');
    }
    await expect(admin('PATCH', `/${project.projectId}`, { eventRetentionDays: 90 })).resolves.toMatchObject({ status: 200, body: { eventRetentionDays: 90 } });
    // Other settings leave it as it is; null sets it back to forever.
    await expect(admin('PATCH', `/${project.projectId}`, { allowedOrigins: null })).resolves.toMatchObject({ status: 200, body: { eventRetentionDays: 90 } });
    await expect(admin('PATCH', `/${project.projectId}`, { eventRetentionDays: null })).resolves.toMatchObject({ status: 200, body: { eventRetentionDays: null } });
    const created = await admin('POST', '', { name: 'short-lived', featureDim: 4, eventRetentionDays: 7 });
    await expect(ctx.db.make(ProjectsRepository).find(created.body.projectId)).resolves.toMatchObject({ eventRetentionDays: 7 });
  });

  it('lists keys with prefix, kind, created and last used; creates another; the ingest key cannot manage keys', async () => {
    const project = await newProject('listing');
    let listed = await keys('GET', '', project.secretKey);
    expect(listed.status).toBe(200);
    const byKind = (kind: string) => listed.body.keys.find((k: { kind: string }) => k.kind === kind);
    expect(byKind('ingest')).toMatchObject({ prefix: project.ingestKey.slice(0, 16), active: true, lastUsedAt: null, revokedAt: null, expiresAt: null });
    expect(byKind('secret').lastUsedAt).not.toBeNull(); // this very request used it
    expect(JSON.stringify(listed.body)).not.toContain(project.ingestKey); // only the prefix, never the key

    await expect(ingest(project.ingestKey, 'l1')).resolves.toMatchObject({ status: 202 });
    listed = await keys('GET', '', project.secretKey);
    expect(byKind('ingest').lastUsedAt).not.toBeNull();

    const created = await keys('POST', '', project.secretKey, { kind: 'ingest' });
    expect(created).toMatchObject({ status: 201, body: { kind: 'ingest', key: expect.stringMatching(/^fw_ingest_/) } });
    await expect(ingest(created.body.key, 'l2')).resolves.toMatchObject({ status: 202 });
    await expect(keys('POST', '', project.secretKey, { kind: 'root' })).resolves.toMatchObject({ status: 400 });
    await expect(keys('GET', '', project.ingestKey)).resolves.toMatchObject({ status: 403 });
  });

  it('revokes a key at once through this api, names a bad id, and keeps the last secret key', async () => {
    const project = await newProject('revoking');
    const listed = await keys('GET', '', project.secretKey);
    const ingestId = listed.body.keys.find((k: { kind: string }) => k.kind === 'ingest').keyId;
    const secretId = listed.body.keys.find((k: { kind: string }) => k.kind === 'secret').keyId;
    await expect(ingest(project.ingestKey, 'r1')).resolves.toMatchObject({ status: 202 }); // cached now

    await expect(keys('DELETE', '/not-a-uuid', project.secretKey)).resolves.toMatchObject({
      status: 400, body: { error: { code: 'VALIDATION_FAILED', details: [{ field: 'keyId' }] } },
    });
    await expect(keys('DELETE', `/${secretId}`, project.secretKey)).resolves.toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    await expect(keys('DELETE', `/${ingestId}`, project.secretKey)).resolves.toMatchObject({ status: 200, body: { keyId: ingestId, revoked: true } });
    await expect(ingest(project.ingestKey, 'r2')).resolves.toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    await expect(keys('DELETE', `/${ingestId}`, project.secretKey)).resolves.toMatchObject({ status: 404 });
    const after = await keys('GET', '', project.secretKey);
    expect(after.body.keys.find((k: { keyId: string }) => k.keyId === ingestId)).toMatchObject({ active: false, revokedAt: expect.any(String) });
  });

  it('a key revoked elsewhere (another api process, the database) stops working within the key-cache TTL', async () => {
    const project = await newProject('revoked-elsewhere');
    await expect(ingest(project.ingestKey, 'e1')).resolves.toMatchObject({ status: 202 });
    const listed = await keys('GET', '', project.secretKey);
    const ingestId = listed.body.keys.find((k: { kind: string }) => k.kind === 'ingest').keyId;
    await expect(ctx.db.make(ProjectsRepository).revokeKey(project.projectId, ingestId)).resolves.toBe(true);
    // Refused once its cached lookup expires (generous margin over the TTL: the machine is loaded).
    let n = 0;
    await waitFor(async () => (await ingest(project.ingestKey, `e-${n++}`)).status === 401, KEY_CACHE_TTL_MS + 15000, 'revoked key refused');
  }, 30000);

  it('rotates a key: the new one works at once, the old one until the overlap ends', async () => {
    const project = await newProject('rotating');
    const ingestId = (await keys('GET', '', project.secretKey)).body.keys.find((k: { kind: string }) => k.kind === 'ingest').keyId;
    const long = await keys('POST', `/${ingestId}/rotate`, project.secretKey, { overlapSeconds: 3600 });
    expect(long).toMatchObject({ status: 201, body: { kind: 'ingest', key: expect.stringMatching(/^fw_ingest_/), replaces: { keyId: ingestId, expiresAt: expect.any(String) } } });
    await expect(ingest(long.body.key, 'o1')).resolves.toMatchObject({ status: 202 });
    await expect(ingest(project.ingestKey, 'o2')).resolves.toMatchObject({ status: 202 }); // within the overlap

    const short = await keys('POST', `/${long.body.keyId}/rotate`, project.secretKey, { overlapSeconds: 1 });
    expect(short.status).toBe(201);
    let n = 0;
    await waitFor(async () => (await ingest(long.body.key, `o-${n++}`)).status === 401, 20000, 'rotated-out key refused');
    await expect(ingest(short.body.key, 'o3')).resolves.toMatchObject({ status: 202 });
    // Rotating the secret key keeps the project manageable with the new one.
    const secretId = (await keys('GET', '', project.secretKey)).body.keys.find((k: { kind: string; active: boolean }) => k.kind === 'secret' && k.active).keyId;
    const secret = await keys('POST', `/${secretId}/rotate`, project.secretKey, { overlapSeconds: 0 });
    expect(secret.status).toBe(201);
    await expect(keys('GET', '', project.secretKey)).resolves.toMatchObject({ status: 401 });
    await expect(keys('GET', '', secret.body.key)).resolves.toMatchObject({ status: 200 });
    await expect(keys('POST', `/${secretId}/rotate`, secret.body.key, { overlapSeconds: -1 })).resolves.toMatchObject({
      status: 400, body: { error: { details: [{ field: 'overlapSeconds' }] } },
    });
  }, 40000);

  it('deletes a project: its keys get a clear 410, it leaves the list, a second delete answers the same job', async () => {
    const project = await newProject('deleting');
    await expect(ingest(project.ingestKey, 'd1')).resolves.toMatchObject({ status: 202 });
    const deleted = await admin('DELETE', `/${project.projectId}`);
    expect(deleted).toMatchObject({ body: { projectId: project.projectId, deleted: true, kind: 'project', jobId: expect.any(String) } });
    expect([200, 202]).toContain(deleted.status);
    const refused = await ingest(project.ingestKey, 'd2');
    expect(refused).toMatchObject({ status: 410, body: { error: { code: 'PROJECT_DELETED' } } });
    expect(refused.body.error.message).toContain(project.projectId);
    await expect(keys('GET', '', project.secretKey)).resolves.toMatchObject({ status: 410 });
    const listed = await admin('GET', '');
    expect(listed.body.projects.map((p: { projectId: string }) => p.projectId)).not.toContain(project.projectId);
    await expect(admin('DELETE', `/${project.projectId}`)).resolves.toMatchObject({ body: { jobId: deleted.body.jobId } });
    await expect(admin('DELETE', `/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`)).resolves.toMatchObject({ status: 404 });
    await expect(admin('PATCH', `/${project.projectId}`, { allowedOrigins: null })).resolves.toMatchObject({ status: 404 });
  });
});
