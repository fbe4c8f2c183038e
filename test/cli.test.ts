import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreatedProject } from '@flywheel/database';
import { AppProcess, ROOT, TestContext, get, post, waitFor } from './support/harness';

/** The `flywheel` CLI as an ML engineer uses it: JSON output, files, errors that say what to do, exit codes. */
describe('flywheel CLI', () => {
  const ctx = new TestContext('cli');
  let api: AppProcess;
  let project: CreatedProject;

  beforeAll(async () => {
    await ctx.setUp();
    [api] = await Promise.all([ctx.startApi(), ctx.startWorker(), ctx.startTrainer()]); // the trainer builds sets
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  const cli = (args: string[], env: Record<string, string> = {}) => {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'dist/apps/cli/src/main.js'), ...args], {
      env: ctx.env({ FLYWHEEL_API_URL: api.url, ...env }), encoding: 'utf8',
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it('creates a project with both keys (bootstrap, straight to the database)', () => {
    const created = cli(['project', 'create', '--name', 'cli-test', '--feature-dim', '3', '--json']);
    expect(created.status).toBe(0);
    project = JSON.parse(created.stdout);
    expect(project).toEqual({ projectId: expect.any(String), ingestKey: expect.stringMatching(/^fw_ingest_/), secretKey: expect.stringMatching(/^fw_secret_/) });
    expect(cli(['project', 'create', '--name', 'x', '--feature-dim', 'zero'])).toMatchObject({ status: 2, stderr: expect.stringContaining('must be an integer between 1 and 4096') });
  });

  it('builds, lists and exports a preference set through the API', async () => {
    const generations = Array.from({ length: 12 }, (_, i) => ({ videoId: `c${i}`, requestId: `r${Math.floor(i / 3)}`, prompt: 'p', model: 'm', modelVersion: '1', features: [i, 0, 1] }));
    await post(`${api.url}/v1/generations`, project.ingestKey, { generations });
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM generations WHERE project_id = $1', [project.projectId])) === 12, 15000, 'generations');
    const events = generations.flatMap((g, i) => [
      { eventId: `${g.videoId}-i`, type: 'impression', videoId: g.videoId, userId: 'u1', occurredAt: '2026-11-20T10:00:00Z' },
      ...(i % 3 === 0 ? [{ eventId: `${g.videoId}-l`, type: 'like', videoId: g.videoId, userId: 'u1', occurredAt: '2026-11-20T10:00:01Z' }] : []),
      ...(i % 3 === 2 ? [{ eventId: `${g.videoId}-d`, type: 'dislike', videoId: g.videoId, userId: 'u1', occurredAt: '2026-11-20T10:00:01Z' }] : []),
    ]);
    await post(`${api.url}/v1/events`, project.ingestKey, { events });
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [project.projectId])) === events.length, 15000, 'events');

    const env = { FLYWHEEL_API_KEY: project.secretKey };
    const built = cli(['sets', 'build', '--scopes', 'request', '--json'], env);
    expect(built.status).toBe(0);
    const set = JSON.parse(built.stdout);
    expect(set).toMatchObject({ status: 'ready', manifest: { counts: { pairs: 12, rankings: 4 } } }); // 4 requests × 3 pairs
    expect(cli(['sets', 'list'], env).stdout).toContain(set.id);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'flywheel-cli-')), 'set.dpo.jsonl');
    const exported = cli(['sets', 'export', set.id, '--format', 'dpo-jsonl', '-o', file], env);
    expect(exported.status).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.prompt === 'p' && l.chosen !== l.rejected)).toBe(true);
    // It says what it left out, and leaves a manifest that names the set, its hash and how to fetch the bytes again.
    expect(exported.stdout).toMatch(new RegExp(`of set ${set.id} \\(sha256 ${set.contentSha256}\\): 12 rows read, \\d+ ties, \\d+ ties left out`));
    const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8'));
    expect(manifest).toMatchObject({ setId: set.id, contentSha256: set.contentSha256, format: 'dpo-jsonl', rows: 12, cli: `flywheel sets export ${set.id} --format dpo-jsonl` });
    expect(manifest.rows - manifest.tiesSkipped).toBe(lines.length);
    expect(manifest.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    const split = lines[0].split; // one prompt, so one split
    const train = JSON.parse(cli(['sets', 'export', set.id, '--format', 'kto-jsonl', '--split', split, '--path-prefix', 'videos/', '-o', `${file}.kto`, '--json'], env).stdout);
    const kto = readFileSync(`${file}.kto`, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(kto.length).toBeGreaterThan(0);
    expect(kto.every((l) => l.split === split && /^videos\/c\d+\.mp4$/.test(l.completion) && typeof l.label === 'boolean')).toBe(true);
    expect(train).toMatchObject({ format: 'kto-jsonl', split, rows: train.tiesSkipped + kto.length });
    const other = (['train', 'validation', 'test'] as const).find((s) => s !== split)!;
    expect(JSON.parse(cli(['sets', 'export', set.id, '--format', 'dpo-jsonl', '--split', other, '-o', `${file}.other`, '--json'], env).stdout)).toMatchObject({ rows: 0, bytes: 0 });
    // Publishing is the trainer's: the CLI waits for the publication and prints it once done.
    const published = cli(['sets', 'publish', set.id, '--json'], env);
    expect(published.status).toBe(0);
    expect(JSON.parse(published.stdout)).toMatchObject({ setId: set.id, status: 'done', messages: 12 + 4 + 1 });
    const queued = JSON.parse(cli(['sets', 'publish', set.id, '--no-wait', '--json'], env).stdout);
    expect(queued).toMatchObject({ setId: set.id, status: 'queued' });
    // Leave nothing in the shared queue for other files' trainers.
    await waitFor(async () => (await get(`${api.url}/v1/preference-sets/${set.id}/publications/${queued.publicationId}`, project.secretKey)).body.status === 'done', 30000, 'the queued publication');
    expect(cli(['models', 'list'], env)).toMatchObject({ status: 0, stdout: 'no models yet\n' });
  }, 60000);

  it('says what to do, with a meaningful exit code, when something is wrong', () => {
    expect(cli(['models', 'list'], { FLYWHEEL_API_KEY: '' })).toMatchObject({ status: 2, stderr: expect.stringContaining('pass --key') });
    expect(cli(['models', 'list', '--json'], { FLYWHEEL_API_KEY: project.ingestKey })).toMatchObject({ status: 2, stderr: expect.stringContaining('secret key') });
    expect(cli(['sets', 'show', '00000000-0000-4000-8000-000000000000'], { FLYWHEEL_API_KEY: project.secretKey })).toMatchObject({ status: 4 });
    expect(cli(['models', 'list'], { FLYWHEEL_API_KEY: project.secretKey, FLYWHEEL_API_URL: 'http://127.0.0.1:9' })).toMatchObject({ status: 3, stderr: expect.stringContaining('cannot reach the api') });
    expect(cli(['models', 'promote', 'x', '--force'], { FLYWHEEL_API_KEY: project.secretKey })).toMatchObject({ status: 2, stderr: expect.stringContaining('--reason') });
  });
});
