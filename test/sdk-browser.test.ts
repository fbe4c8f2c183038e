/// <reference lib="dom" />
import { execSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import * as path from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { CreatedProject, ProjectsRepository } from '@flywheel/database';
import { AppProcess, ROOT, TestContext, freePort, waitFor } from './support/harness';

const CHROMIUM = '/usr/bin/chromium';
// The machine has no network beyond package registries: without these Chromium stalls on its background services.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const BUNDLE = path.join(ROOT, 'packages/sdk/dist/flywheel.min.js');

function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const run = (command: string) => execSync(command, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    run('apt-get install -y chromium');
  } catch {
    run('apt-get update && apt-get install -y chromium');
  }
}

/** A web editor on its own origin: the built SDK bundle by script tag, a client configured from the query string. */
function editorPage(api: string, key: string, flushIntervalMs: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>editor</title><script src="/flywheel.min.js"></script></head><body>
<script>
  window.delivered = [];
  window.problems = [];
  window.fw = Flywheel.init({
    endpoint: ${JSON.stringify(api)}, apiKey: ${JSON.stringify(key)}, batchSize: 5, flushIntervalMs: ${Number(flushIntervalMs)},
    baseRetryDelayMs: 200, maxRetryDelayMs: 1000,
    onDelivered: (ids) => window.delivered.push(...ids),
    onError: (e) => window.problems.push(e.code),
  });
</script></body></html>`;
}

/**
 * End to end in Chromium: a page on another origin tracks events through @flywheel/sdk; the api stops, the page
 * reloads, the api comes back, and every event is stored exactly once. A page that goes away sends its queue in
 * keepalive requests.
 */
describe('@flywheel/sdk in a browser', () => {
  const ctx = new TestContext('sdkbrowser');
  let api: AppProcess;
  let apiPort: number;
  let project: CreatedProject;
  let browser: Browser;
  let site: Server;
  let siteUrl: string;

  beforeAll(async () => {
    ensureChromium();
    await ctx.setUp();
    let worker: AppProcess;
    [api, worker] = await Promise.all([ctx.startApi(), ctx.startWorker()]);
    void worker;
    apiPort = Number(new URL(api.url).port);
    project = await ctx.createProject(4, 'sdk-browser');
    const bundle = readFileSync(BUNDLE);
    site = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname === '/flywheel.min.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      } else if (url.pathname === '/') {
        response.writeHead(200, { 'content-type': 'text/html' }).end(editorPage(api.url, project.ingestKey, url.searchParams.get('flush') ?? '200'));
      } else {
        response.writeHead(404).end();
      }
    });
    site.listen(await freePort(), '127.0.0.1');
    await once(site, 'listening');
    // "localhost" here, "127.0.0.1" for the api: another origin, so every request goes through CORS.
    siteUrl = `http://localhost:${(site.address() as { port: number }).port}`;
    await ctx.db.make(ProjectsRepository).update(project.projectId, { allowedOrigins: [siteUrl] });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60000 });
  }, 600000);

  afterAll(async () => {
    await browser?.close();
    site?.close();
    await ctx.tearDown();
  }, 30000);

  const stored = (prefix: string) => ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1 AND event_id LIKE $2', [project.projectId, `${prefix}-%`]);
  const track = (page: Page, prefix: string, from: number, to: number) => page.evaluate(([p, a, b]) => {
    for (let i = a; i < b; i++) {
      (window as any).fw.track({ eventId: `${p}-${i}`, type: i % 3 ? 'play' : 'like', videoId: `v${i % 4}`, userId: 'creator-1' });
    }
  }, [prefix, from, to] as [string, number, number]);
  const pending = (page: Page) => page.evaluate(() => (window as any).fw.pending() as number);

  it('offline, reload, back online: every event stored exactly once', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${siteUrl}/`);

    await track(page, 'off', 0, 8);
    await waitFor(async () => (await pending(page)) === 0, 20000, 'first events delivered');
    await waitFor(async () => (await stored('off')) === 8, 30000, 'first events stored');

    // The api goes away: events wait in localStorage while the SDK backs off.
    await ctx.stopApp(api);
    await track(page, 'off', 8, 20);
    await waitFor(async () => (await page.evaluate(() => (window as any).problems.includes('RETRYING'))), 20000, 'a failed attempt');
    await expect(pending(page)).resolves.toBe(12);

    // A reload (the api still down) finds the queue, and the app goes on tracking.
    await page.reload();
    await expect(pending(page)).resolves.toBe(12);
    await track(page, 'off', 20, 25);
    await expect(pending(page)).resolves.toBe(17);
    await waitFor(async () => (await page.evaluate(() => (window as any).problems.includes('RETRYING'))), 20000, 'a failed attempt after the reload');

    // The api comes back where the page expects it.
    api = await ctx.startApi({}, apiPort);
    await waitFor(async () => (await pending(page)) === 0, 60000, 'the queue drained');
    await waitFor(async () => (await stored('off')) === 25, 60000, 'all 25 events stored');
    const rows: { event_id: string }[] = await ctx.db.query("SELECT event_id FROM feedback_events WHERE project_id = $1 AND event_id LIKE 'off-%'", [project.projectId]);
    expect(rows.map((r) => r.event_id).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `off-${i}`).sort());
    await expect(page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('flywheel:')).length)).resolves.toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 180000);

  it('a page that goes away sends its queue with keepalive requests', async () => {
    const page = await browser.newPage();
    await page.goto(`${siteUrl}/?flush=600000`); // no timed flush: only leaving the page sends
    await track(page, 'hide', 0, 3);
    await expect(pending(page)).resolves.toBe(3);
    await page.goto('about:blank');
    await waitFor(async () => (await stored('hide')) === 3, 30000, 'events sent on pagehide stored');
    await page.close();
  }, 60000);
});
