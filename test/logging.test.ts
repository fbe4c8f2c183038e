import { randomUUID } from 'node:crypto';
import { CreatedProject } from '@flywheel/database';
import { AppProcess, TestContext, outputOf, waitFor } from './support/harness';

/** The real api and ingest-worker at LOG_LEVEL=info: pino lines on stderr, an access line per request with its id. */
describe('structured logs of the running apps', () => {
  const ctx = new TestContext('logging');
  let api: AppProcess;
  let worker: AppProcess;
  let project: CreatedProject;

  beforeAll(async () => {
    await ctx.setUp();
    [api, worker] = await Promise.all([ctx.startApi({ LOG_LEVEL: 'info' }), ctx.startWorker({ LOG_LEVEL: 'info' })]);
    project = await ctx.createProject(3);
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  /** Every stderr line of a child, parsed; a line that is not JSON fails the test. */
  const linesOf = (app: AppProcess): Record<string, any>[] =>
    outputOf(app.child).split('\n').filter((l) => l.trim()).map((l) => {
      try { return JSON.parse(l); } catch { throw new Error(`not a JSON log line: ${l}`); }
    });

  it('answers with the request id and writes an access line carrying it', async () => {
    const reqId = `editor-${randomUUID()}`;
    const events = [{ eventId: 'log-e1', type: 'like', videoId: 'v1', userId: 'u1', occurredAt: '2026-11-20T10:00:00Z' }];
    const response = await fetch(`${api.url}/v1/events`, {
      method: 'POST', body: JSON.stringify({ events }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${project.ingestKey}`, 'x-request-id': reqId },
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-request-id')).toBe(reqId);
    await waitFor(async () => linesOf(api).some((l) => l.msg === 'request_completed' && l.reqId === reqId), 10000, 'the access line');
    expect(linesOf(api).find((l) => l.msg === 'request_completed' && l.reqId === reqId)).toEqual({
      level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), context: 'Http', reqId,
      method: 'POST', url: '/v1/events', route: '/v1/events', status: 202, ms: expect.any(Number), msg: 'request_completed',
    });

    const anonymous = await fetch(`${api.url}/v1/project`, { headers: { authorization: `Bearer ${project.secretKey}` } });
    const generated = anonymous.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(async () => linesOf(api).some((l) => l.reqId === generated && l.status === 200), 10000, 'the second access line');
  });

  it('writes every line as JSON with a level and a timestamp, fields as fields (framework lines included)', async () => {
    await waitFor(async () => linesOf(worker).some((l) => l.msg === 'consuming'), 10000, 'the worker\'s consuming line');
    for (const app of [api, worker]) {
      const lines = linesOf(app);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatchObject({ level: expect.stringMatching(/^(debug|info|warn|error|fatal)$/), time: expect.any(String), msg: expect.any(String) });
    }
    expect(linesOf(worker).find((l) => l.msg === 'consuming')).toMatchObject({ context: 'IngestRunner', topics: [expect.stringContaining('events'), expect.stringContaining('generations')], group: expect.any(String) });
    expect(linesOf(api).find((l) => l.msg === 'api_listening')).toMatchObject({ context: 'Bootstrap', url: api.url });
  });
});
