/// <reference lib="dom" />
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { CreatedProject } from '@flywheel/database';
import { AppProcess, ROOT, TestContext, post, postAll, waitFor } from './support/harness';

const CHROMIUM = '/usr/bin/chromium';
// The machine has no network beyond package registries: without these Chromium stalls on its background services.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const HOUR = 3_600_000;
const SCREENSHOT = path.join(ROOT, 'artifacts', 'dashboard.png');

/** Debian's Chromium, installed on first use. */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const run = (command: string) => execSync(command, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    run('apt-get install -y chromium');
  } catch {
    run('apt-get update && apt-get install -y chromium');
  }
}

/**
 * Two model versions over the last five days, in two categories where they rank differently: 2.0 is liked more for
 * pets (1 in 2 viewers against 1 in 4), 1.0 for travel (1 in 3 against 1 in 5); 2.0 is exported more and regenerated
 * less. Deterministic, so the chart has the same shape on every run.
 */
function seed(now: number) {
  const generations = Array.from({ length: 24 }, (_, i) => ({
    videoId: `d${i}`, requestId: `r${Math.floor(i / 2)}`, prompt: `prompt ${i}`, model: 'seedance',
    modelVersion: i % 2 ? '2.0' : '1.0', category: i % 4 < 2 ? 'pets' : 'travel', segment: i % 3 ? 'pro' : 'casual',
    durationMs: 10000, features: [i, 0, 1, 0],
  }));
  const start = Math.floor(now / HOUR) * HOUR - 5 * 24 * HOUR;
  const events: Record<string, unknown>[] = [];
  generations.forEach((g, i) => {
    const v2 = g.modelVersion === '2.0';
    const likeEvery = g.category === 'pets' ? (v2 ? 2 : 4) : (v2 ? 5 : 3);
    for (let u = 0; u < 40; u++) {
      const at = start + ((i * 7 + u * 13) % 118) * HOUR + u * 1000;
      const e = (type: string, k: number, extra: object = {}) => events.push({
        eventId: `${g.videoId}-${u}-${k}`, type, videoId: g.videoId, userId: `viewer-${u}`, occurredAt: new Date(at + k * 1000).toISOString(), ...extra,
      });
      e('play', 0);
      e('progress', 1, { watchMs: ((u * 997) % 10000), durationMs: 10000 });
      if (u % 3 === 0) e('complete', 2, { durationMs: 10000 });
      if (u % likeEvery === 0) e('like', 3);
      if (u % 9 === 4) e('dislike', 4);
      if (u % (v2 ? 6 : 11) === 1) e('export', 5);
      if (u % (v2 ? 13 : 7) === 2) e('regenerate', 6);
    }
  });
  return { generations, events };
}

describe('dashboard page', () => {
  const ctx = new TestContext('dashboard');
  let api: AppProcess;
  let project: CreatedProject;
  let browser: Browser;

  beforeAll(async () => {
    ensureChromium();
    await ctx.setUp();
    let worker: AppProcess;
    [api, worker] = await Promise.all([ctx.startApi(), ctx.startWorker()]);
    void worker;
    project = await ctx.createProject(4, 'dashboard');
    const { generations, events } = seed(Date.now());
    await expect(post(`${api.url}/v1/generations`, project.ingestKey, { generations })).resolves.toMatchObject({ status: 202 });
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM generations WHERE project_id = $1', [project.projectId])) === generations.length, 20000, 'generations');
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < events.length; i += 500) batches.push(events.slice(i, i + 500));
    const accepted = new Set<string>();
    await postAll(api, project.ingestKey, batches, accepted);
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [project.projectId])) === events.length, 60000, 'events');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60000 });
  }, 600000);

  afterAll(async () => {
    await browser?.close();
    await ctx.tearDown();
  }, 30000);

  async function rendered(page: Page, after: number): Promise<void> {
    await page.waitForFunction((n) => document.body.dataset.state === 'ready' && Number(document.body.dataset.renders ?? 0) > n, after, { timeout: 15000 });
  }
  const renders = (page: Page) => page.evaluate(() => Number(document.body.dataset.renders ?? 0));
  const pointValues = (page: Page) => page.$$eval('#chart g.series circle.point', (nodes) => nodes.map((n) => n.getAttribute('data-value')));

  it('asks for the key, draws one line per version, follows the category filter and compares versions', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const response = await page.goto(`${api.url}/dashboard`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    await expect(page.isVisible('#key-input')).resolves.toBe(true);

    await page.fill('#key-input', project.secretKey);
    await page.click('#key-form button[type=submit]');
    await rendered(page, 0);
    expect(page.url()).not.toContain(project.secretKey);
    await expect(page.evaluate(() => sessionStorage.getItem('flywheel.secretKey'))).resolves.toBe(project.secretKey);

    await expect(page.$$eval('#chart g.series', (nodes) => nodes.map((n) => n.getAttribute('data-version')))).resolves.toEqual(['1.0', '2.0']);
    await expect(page.$$eval('#legend .legend-item', (nodes) => nodes.map((n) => n.getAttribute('data-version')))).resolves.toEqual(['1.0', '2.0']);
    const all = await pointValues(page);
    expect(all.length).toBeGreaterThanOrEqual(10); // 2 versions × 6 days of the 7-day view hold data
    await expect(page.$$eval('#compare-body tr', (rows) => rows.length)).resolves.toBe(11);
    await expect(page.textContent('#compare-note')).resolves.toContain('Benjamini–Hochberg');
    await expect(page.$$eval('#category option', (options) => options.map((o) => o.textContent))).resolves.toEqual(['All categories', 'pets', 'travel']);

    const before = await renders(page);
    await page.selectOption('#metric', 'like');
    await rendered(page, before);
    const likesAll = await pointValues(page);
    // In "pets" 2.0 wins the like rate, in "travel" 1.0 does: the lines swap.
    const likeRow = async () => page.$eval('#compare-body tr[data-metric=like] td.sig', (td) => td.className);
    const afterMetric = await renders(page);
    await page.selectOption('#category', 'pets');
    await rendered(page, afterMetric);
    const likesPets = await pointValues(page);
    expect(likesPets).not.toEqual(likesAll);
    await expect(likeRow()).resolves.toContain('better');
    const afterPets = await renders(page);
    await page.selectOption('#category', 'travel');
    await rendered(page, afterPets);
    await expect(likeRow()).resolves.toContain('worse');
    const mean = async (version: string) => page.$$eval(`#chart g.series[data-version="${version}"] circle.point`, (nodes) =>
      nodes.reduce((s, n) => s + Number(n.getAttribute('data-value')), 0) / nodes.length);
    expect(await mean('1.0')).toBeGreaterThan(await mean('2.0'));

    const afterTravel = await renders(page);
    await page.selectOption('#category', '');
    await rendered(page, afterTravel);
    const afterAll = await renders(page);
    await page.selectOption('#metric', 'satisfaction');
    await rendered(page, afterAll);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60000);

  it('drops a key the api refuses and says why', async () => {
    const page = await browser.newPage();
    await page.goto(`${api.url}/dashboard`);
    await page.fill('#key-input', project.ingestKey);
    await page.click('#key-form button[type=submit]');
    await page.waitForFunction(() => document.body.dataset.state === 'error', undefined, { timeout: 15000 });
    await expect(page.textContent('#status')).resolves.toContain('secret key');
    await expect(page.evaluate(() => sessionStorage.getItem('flywheel.secretKey'))).resolves.toBeNull();
    await expect(page.isVisible('#key-input')).resolves.toBe(true);
    await page.close();
  }, 30000);
});
