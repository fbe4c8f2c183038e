import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreatedProject } from '@flywheel/database';
import { AppProcess, CuttableProxy, ROOT, TestContext, waitFor } from './support/harness';

const SENDER = path.join(ROOT, 'dist/test/support/sdk-sender.js');

/** A Node app sends through the SDK, is killed with its queue half delivered, restarts, and every event is stored once. */
describe('@flywheel/sdk in Node', () => {
  const ctx = new TestContext('sdknode');
  let api: AppProcess;
  let project: CreatedProject;
  let proxy: CuttableProxy;
  const senders: ChildProcess[] = [];

  beforeAll(async () => {
    await ctx.setUp();
    let worker: AppProcess;
    [api, worker] = await Promise.all([ctx.startApi(), ctx.startWorker()]);
    void worker;
    project = await ctx.createProject(4, 'sdk-node');
    // The sender reaches the api through a proxy the test can cut: the network goes away, the api stays up.
    proxy = new CuttableProxy('127.0.0.1', Number(new URL(api.url).port));
    await proxy.start();
  }, 60000);
  afterAll(async () => {
    for (const child of senders) if (child.exitCode === null) child.kill('SIGKILL');
    await proxy?.cut();
    await ctx.tearDown();
  }, 30000);

  function sender(args: string[]) {
    const child = spawn(process.execPath, [SENDER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    senders.push(child);
    const exited = once(child, 'exit'); // subscribed now: the process may be gone before anyone waits
    const lines: string[] = [];
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const seen = (prefix: string) => lines.some((l) => l.startsWith(prefix));
    const delivered = () => lines.filter((l) => l.startsWith('delivered ')).reduce((s, l) => s + Number(l.split(' ')[1]), 0);
    const wait = (prefix: string, timeoutMs = 30000) => waitFor(async () => seen(prefix), timeoutMs, `sender: ${prefix}\n${lines.join('\n')}\n${stderr}`, child);
    return { child, lines, seen, delivered, wait, exited };
  }

  it('a killed process leaves its queue in the file; the next one delivers it, each event stored once', async () => {
    const queue = path.join(mkdtempSync(path.join(tmpdir(), 'flywheel-sdk-node-')), 'queue.jsonl');
    const common = ['--endpoint', `http://127.0.0.1:${proxy.port}`, '--key', project.ingestKey, '--queue', queue, '--tag', 'kill'];
    // 1,000 events tracked over about four seconds, sent in batches of 50.
    const first = sender([...common, '--track', '1000', '--chunk', '50', '--every-ms', '200']);
    await first.wait('delivered ');
    await proxy.cut(); // the network goes: what is not yet delivered waits in the queue file
    await first.wait('tracked 1000');
    const deliveredBeforeKill = first.delivered();
    expect(deliveredBeforeKill).toBeGreaterThan(0);
    expect(deliveredBeforeKill).toBeLessThan(1000); // else the cut came too late: nothing was left to queue
    await first.wait('retrying ');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(queue)).toBe(true);
    expect(readFileSync(queue, 'utf8').length).toBeGreaterThan(0);

    await proxy.restore();
    const second = sender([...common, '--track', '0']);
    await second.wait('drained', 60000);
    const loaded = Number(second.lines.find((l) => l.startsWith('loaded '))!.split(' ')[1]);
    // The restarted process found at least what was undelivered (a batch cut in flight may count on both sides).
    expect(loaded).toBeGreaterThanOrEqual(1000 - deliveredBeforeKill);
    await second.exited;
    expect(second.child.exitCode).toBe(0);

    await waitFor(async () => (await ctx.count("SELECT count(*) FROM feedback_events WHERE project_id = $1 AND event_id LIKE 'kill-%'", [project.projectId])) === 1000, 60000, 'all 1000 events stored');
    // Exactly the tracked eventIds, each once.
    const rows: { event_id: string }[] = await ctx.db.query('SELECT event_id FROM feedback_events WHERE project_id = $1', [project.projectId]);
    expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(Array.from({ length: 1000 }, (_, i) => `kill-${i}`)));
    expect(rows).toHaveLength(1000);
  }, 240000);
});
