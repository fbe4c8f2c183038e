import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { AppProcess, ROOT, TestContext, call } from './support/harness';

const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** `flywheel project …` with the admin token and `flywheel keys …` with a secret key, all through the API. */
describe('flywheel CLI: projects and keys over HTTP', () => {
  const ctx = new TestContext('clikeys');
  let api: AppProcess;

  beforeAll(async () => {
    await ctx.setUp();
    api = await ctx.startApi({ FLYWHEEL_ADMIN_TOKEN: ADMIN_TOKEN });
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  const cli = (args: string[], env: Record<string, string> = {}) => {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'dist/apps/cli/src/main.js'), ...args], {
      // An unreachable database: these commands must not need it.
      env: ctx.env({ FLYWHEEL_API_URL: api.url, PGPORT: '9', ...env }), encoding: 'utf8',
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it('creates, lists and deletes a project, and manages its keys', async () => {
    const admin = { FLYWHEEL_ADMIN_TOKEN: ADMIN_TOKEN };
    const created = cli(['project', 'create', '--name', 'cli-keys', '--feature-dim', '3', '--json'], admin);
    expect(created).toMatchObject({ status: 0 });
    const project = JSON.parse(created.stdout);
    expect(cli(['project', 'list'], admin).stdout).toContain(project.projectId);

    const secret = { FLYWHEEL_API_KEY: project.secretKey };
    const listed = JSON.parse(cli(['keys', 'list', '--json'], secret).stdout);
    expect(listed.map((k: { kind: string }) => k.kind).sort()).toEqual(['ingest', 'secret']);
    const ingestId = listed.find((k: { kind: string }) => k.kind === 'ingest').keyId;
    expect(cli(['keys', 'list'], secret).stdout).toMatch(/ingest\s+fw_ingest_\S+…\s+created \S+\s+last used -\s+active/);

    const made = JSON.parse(cli(['keys', 'create', '--kind', 'ingest', '--json'], secret).stdout);
    expect(made.key).toMatch(/^fw_ingest_/);
    expect(cli(['keys', 'create', '--kind', 'root'], secret)).toMatchObject({ status: 2, stderr: expect.stringContaining('must be ingest or secret') });

    const rotated = JSON.parse(cli(['keys', 'rotate', made.keyId, '--overlap', '0', '--json'], secret).stdout);
    expect(rotated).toMatchObject({ kind: 'ingest', replaces: { keyId: made.keyId } });
    await expect(call('POST', `${api.url}/v1/events`, made.key, { events: [{ eventId: 'x', type: 'like', videoId: 'v', userId: 'u', occurredAt: '2026-11-01T12:00:00Z' }] }))
      .resolves.toMatchObject({ status: 401 });
    expect(cli(['keys', 'revoke', ingestId], secret)).toMatchObject({ status: 0, stdout: `revoked ${ingestId}\n` });
    expect(cli(['keys', 'revoke', ingestId], secret)).toMatchObject({ status: 4 });

    expect(cli(['origins', 'https://editor.example.com'], secret)).toMatchObject({ status: 0, stdout: 'https://editor.example.com\n' });
    expect(cli(['origins', 'editor.example.com'], secret)).toMatchObject({ status: 5, stderr: expect.stringContaining('allowedOrigins') });

    expect(cli(['project', 'delete', project.projectId])).toMatchObject({ status: 2, stderr: expect.stringContaining('admin token') });
    expect(cli(['project', 'delete', project.projectId], admin)).toMatchObject({ status: 0 });
    expect(cli(['keys', 'list'], secret)).toMatchObject({ status: 5, stderr: expect.stringContaining('was deleted') });
    expect(cli(['project', 'list'], admin).stdout).not.toContain(project.projectId);
  }, 60000);
});
