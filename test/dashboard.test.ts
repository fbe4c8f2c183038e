/// <reference lib="dom" />
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { CreatedProject } from '@flywheel/database';
import { AppProcess, ROOT, TestContext, get, post, postAll, waitFor } from './support/harness';

const CHROMIUM = '/usr/bin/chromium';
// The machine has no network beyond package registries: without these Chromium stalls on its background services.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const HOUR = 3_600_000;
const SCREENSHOTS = path.join(ROOT, 'artifacts');

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
 * less. Deterministic, so the chart has the same shape on every run. Which viewers like a video rotates with the
 * video, and there are 12 videos per version and category with 60 viewers each: the intervals are clustered by video
 * and by user, and a difference carried by the same few viewers on a handful of videos would rightly not be
 * significant.
 */
function seed(now: number) {
  const generations = Array.from({ length: 48 }, (_, i) => ({
    videoId: `d${i}`, requestId: `r${Math.floor(i / 2)}`, prompt: `prompt ${i}`, model: 'seedance',
    modelVersion: i % 2 ? '2.0' : '1.0', category: i % 4 < 2 ? 'pets' : 'travel', segment: i % 3 ? 'pro' : 'casual',
    durationMs: 10000, features: [i, 0, 1, 0],
  }));
  const start = Math.floor(now / HOUR) * HOUR - 5 * 24 * HOUR;
  const events: Record<string, unknown>[] = [];
  generations.forEach((g, i) => {
    const v2 = g.modelVersion === '2.0';
    const likeEvery = g.category === 'pets' ? (v2 ? 2 : 4) : (v2 ? 5 : 3);
    for (let u = 0; u < 60; u++) {
      const at = start + ((i * 7 + u * 13) % 118) * HOUR + u * 1000;
      const e = (type: string, k: number, extra: object = {}) => events.push({
        eventId: `${g.videoId}-${u}-${k}`, type, videoId: g.videoId, userId: `viewer-${u}`, occurredAt: new Date(at + k * 1000).toISOString(), ...extra,
      });
      e('play', 0);
      e('progress', 1, { watchMs: ((u * 997) % 10000), durationMs: 10000 });
      if (u % 3 === 0) e('complete', 2, { durationMs: 10000 });
      if ((u + Math.floor(i / 4)) % likeEvery === 0) e('like', 3); // i / 4: the video's index in its version and category
      if (u % 9 === 4) e('dislike', 4);
      if (u % (v2 ? 6 : 11) === 1) e('export', 5);
      if (u % (v2 ? 13 : 7) === 2) e('regenerate', 6);
    }
  });
  return { generations, events };
}

/**
 * A fresh experiment: two versions whose viewers all arrived within the last two hours (one daily bucket), five videos
 * each, one of each without a category.
 */
function burst(now: number) {
  const generations = Array.from({ length: 10 }, (_, i) => ({
    videoId: `b${i}`, requestId: `br${i}`, prompt: `burst ${i}`, model: 'seedance', modelVersion: i % 2 ? '2.1' : '2.0',
    ...(i < 8 ? { category: 'pets' } : {}), durationMs: 10000, features: [i, 0, 1, 0],
  }));
  const at = Math.floor(now / HOUR) * HOUR - HOUR;
  const events = generations.flatMap((g, i) => Array.from({ length: 30 }, (_, u) => ({
    eventId: `${g.videoId}-${u}`, type: u % (i % 2 ? 2 : 3) === 0 ? 'like' : 'play', videoId: g.videoId, userId: `burst-${u}`,
    occurredAt: new Date(at + (i * 30 + u) * 1000).toISOString(),
  })));
  return { generations, events };
}

/** Ratings of one dimension: 2 versions × 4 videos, 20 raters each over the last 3 days; 2.0 rated a point higher. */
function rated(now: number) {
  const generations = Array.from({ length: 8 }, (_, i) => ({
    videoId: `t${i}`, requestId: `tr${i}`, prompt: `rated ${i}`, model: 'seedance', modelVersion: i % 2 ? '2.0' : '1.0',
    category: 'pets', durationMs: 10000, features: [i, 0, 1, 0],
  }));
  const start = Math.floor(now / HOUR) * HOUR - 3 * 24 * HOUR;
  const events = generations.flatMap((g, i) => Array.from({ length: 20 }, (_, u) => ({
    eventId: `${g.videoId}-${u}`, type: 'rate', videoId: g.videoId, userId: `rater-${u}`, dimension: 'text_alignment',
    rating: Math.min(5, 2 + (i % 2) + ((u + i) % 3)), occurredAt: new Date(start + ((i * 5 + u * 7) % 70) * HOUR).toISOString(),
  })));
  return { generations, events };
}

describe('dashboard page', () => {
  const ctx = new TestContext('dashboard');
  let api: AppProcess;
  let project: CreatedProject;
  let fresh: CreatedProject;
  let ratedProject: CreatedProject;
  let browser: Browser;

  async function ingest(target: CreatedProject, { generations, events }: { generations: object[]; events: Record<string, unknown>[] }) {
    await expect(post(`${api.url}/v1/generations`, target.ingestKey, { generations })).resolves.toMatchObject({ status: 202 });
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM generations WHERE project_id = $1', [target.projectId])) === generations.length, 20000, 'generations');
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < events.length; i += 500) batches.push(events.slice(i, i + 500));
    await postAll(api, target.ingestKey, batches, new Set<string>());
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [target.projectId])) === events.length, 60000, 'events');
  }

  beforeAll(async () => {
    ensureChromium();
    await ctx.setUp();
    let worker: AppProcess;
    [api, worker] = await Promise.all([ctx.startApi(), ctx.startWorker()]);
    void worker;
    project = await ctx.createProject(4, 'dashboard');
    fresh = await ctx.createProject(4, 'fresh');
    await ingest(project, seed(Date.now()));
    await ingest(fresh, burst(Date.now()));
    ratedProject = await ctx.createProject(4, 'rated');
    await ingest(ratedProject, rated(Date.now()));
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60000 });
  }, 600000);

  afterAll(async () => {
    await browser?.close();
    await ctx.tearDown();
  }, 30000);

  async function rendered(page: Page, after: number): Promise<void> {
    await page.waitForFunction((n) => ['ready', 'empty', 'error'].includes(document.body.dataset.state ?? '') && Number(document.body.dataset.renders ?? 0) > n, after, { timeout: 15000 });
  }
  const renders = (page: Page) => page.evaluate(() => Number(document.body.dataset.renders ?? 0));
  const state = (page: Page) => page.evaluate(() => document.body.dataset.state);
  const pointValues = (page: Page) => page.$$eval('#chart g.series circle.point', (nodes) => nodes.map((n) => n.getAttribute('data-value')));
  const params = (page: Page) => Object.fromEntries(new URL(page.url()).searchParams);
  /** The window the page asked for: its 7-day daily default, from the last UTC midnight back. */
  const windowOf = (page: Page) => page.evaluate(() => {
    const day = 86_400_000;
    const to = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
    return `from=${new Date(Math.floor(to / day) * day - 6 * day).toISOString()}&to=${new Date(to).toISOString()}`;
  });

  /** A page with the key entered (sessionStorage is per tab), at `query`, rendered. */
  async function open(key: string, query = '', viewport = { width: 1280, height: 1000 }): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const response = await page.goto(`${api.url}/dashboard${query}`);
    expect(response?.status()).toBe(200);
    await page.fill('#key-input', key);
    await page.click('#key-form button[type=submit]');
    await rendered(page, 0);
    return { page, errors };
  }

  /** Changes a select and waits for the render it causes. */
  async function choose(page: Page, selector: string, value: string): Promise<void> {
    const before = await renders(page);
    await page.selectOption(selector, value);
    await rendered(page, before);
  }

  it('asks for the key, draws one line per version with intervals and the method, follows the category filter and compares versions', async () => {
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
    await expect(page.$eval('#chart svg', (svg) => svg.getAttribute('data-view'))).resolves.toBe('lines');
    await expect(page.$$eval('#legend .legend-item', (nodes) => nodes.map((n) => n.getAttribute('data-version')))).resolves.toEqual(['1.0', '2.0']);
    const all = await pointValues(page);
    expect(all.length).toBeGreaterThanOrEqual(10); // 2 versions × 6 days of the 7-day view hold data
    // Intervals: a band per run of days, and every point inside its own interval.
    await expect(page.$$eval('#chart polygon.band', (nodes) => nodes.length)).resolves.toBeGreaterThanOrEqual(2);
    const inside = await page.$$eval('#chart circle.point', (nodes) => nodes.every((n) => Number(n.getAttribute('data-low')) <= Number(n.getAttribute('data-value'))
      && Number(n.getAttribute('data-value')) <= Number(n.getAttribute('data-high')) && n.getAttribute('data-low') !== n.getAttribute('data-high')));
    expect(inside).toBe(true);
    await expect(page.$$eval('#compare-body tr', (rows) => rows.length)).resolves.toBe(11);
    await expect(page.textContent('#compare-body tr[data-metric=like] td[data-label=Difference]')).resolves.toMatch(/\[[+-]?\d.* pp, [+-]?\d.* pp\]/);
    await expect(page.textContent('#compare-note')).resolves.toContain('Benjamini–Hochberg');
    // The method the api reports for its intervals is on the page, under the chart and under the comparison.
    const answer = await get(`${api.url}/v1/metrics/compare?model=seedance&baseline=1.0&candidate=2.0`, project.secretKey);
    const method: string = answer.body.method?.description ?? 'this API does not say how';
    await expect(page.textContent('#compare-method')).resolves.toContain(method);
    await expect(page.textContent('#chart-method')).resolves.toMatch(/^Intervals: \S/);
    await expect(page.$$eval('#category option', (options) => options.map((o) => o.textContent))).resolves.toEqual(['All categories', 'pets', 'travel']);

    await choose(page, '#metric', 'like');
    const likesAll = await pointValues(page);
    // In "pets" 2.0 wins the like rate, in "travel" 1.0 does: the lines swap.
    const likeRow = async () => page.$eval('#compare-body tr[data-metric=like] td.sig', (td) => td.className);
    await choose(page, '#category', 'pets');
    const likesPets = await pointValues(page);
    expect(likesPets).not.toEqual(likesAll);
    await expect(likeRow()).resolves.toContain('better');
    await choose(page, '#category', 'travel');
    await expect(likeRow()).resolves.toContain('worse');
    const mean = async (version: string) => page.$$eval(`#chart g.series[data-version="${version}"] circle.point`, (nodes) =>
      nodes.reduce((s, n) => s + Number(n.getAttribute('data-value')), 0) / nodes.length);
    expect(await mean('1.0')).toBeGreaterThan(await mean('2.0'));
    await choose(page, '#category', '');
    await choose(page, '#metric', 'satisfaction');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-desktop.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60000);

  it('keeps the view in the URL: a link opened in a new tab shows the same view', async () => {
    const { page, errors } = await open(project.secretKey);
    await choose(page, '#metric', 'like');
    await choose(page, '#by', 'category');
    await choose(page, '#segment', 'pro');
    await choose(page, '#videos-version', 'seedance:2.0');
    expect(params(page)).toEqual({ metric: 'like', by: 'category', segment: 'pro', baseline: 'seedance:1.0', candidate: 'seedance:2.0', videos: 'seedance:2.0' });
    const link = page.url();
    expect(link).not.toContain(project.secretKey);
    const shown = async (p: Page) => ({
      metric: await p.$eval('#metric', (s) => (s as HTMLSelectElement).value),
      segment: await p.$eval('#segment', (s) => (s as HTMLSelectElement).value),
      by: await p.$eval('#by', (s) => (s as HTMLSelectElement).value),
      chart: await p.$eval('#chart svg', (svg) => svg.getAttribute('data-metric')),
      points: await pointValues(p),
      breakdown: await p.$$eval('#breakdown-body tr', (rows) => rows.map((r) => r.textContent)),
      compare: await p.$$eval('#compare-body tr', (rows) => rows.map((r) => r.textContent)),
      videos: await p.$$eval('#best li, #worst li', (items) => items.map((i) => i.getAttribute('data-video'))),
    });
    const original = await shown(page);
    expect(original.breakdown.length).toBe(2);

    const copy = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await copy.goto(link);
    await copy.fill('#key-input', project.secretKey);
    await copy.click('#key-form button[type=submit]');
    await rendered(copy, 0);
    await expect(shown(copy)).resolves.toEqual(original);
    expect(copy.url()).toBe(link);
    await copy.close();

    // Reset returns to the defaults, and the URL with it.
    const before = await renders(page);
    await page.click('#reset');
    await rendered(page, before);
    expect(params(page)).toEqual({ baseline: 'seedance:1.0', candidate: 'seedance:2.0' });
    expect(errors).toEqual([]);
    await page.close();
  }, 60000);

  it('breaks the comparison down by category and drills down to the best and worst videos', async () => {
    const { page, errors } = await open(project.secretKey, '?metric=like&by=category');
    const rows = await page.$$eval('#breakdown-body tr', (trs) => trs.map((tr) => ({
      value: tr.getAttribute('data-value'), difference: tr.querySelector('td[data-label=Difference] .diff-cell')?.textContent ?? '',
    })));
    expect(rows.map((r) => r.value)).toEqual(['pets', 'travel']);
    // 2.0 − 1.0 in like rate: up in pets, down in travel, each row the api's comparison within that category.
    expect(rows[0].difference).toMatch(/^\+\d+\.\d\d pp\[/);
    expect(rows[1].difference).toMatch(/^-\d+\.\d\d pp\[/);
    const pp = (v: number) => `${v > 0 ? '+' : ''}${(v * 100).toFixed(2)} pp`;
    for (const [i, category] of ['pets', 'travel'].entries()) {
      const { body } = await get(`${api.url}/v1/metrics/compare?model=seedance&baseline=1.0&candidate=2.0&category=${category}&${await windowOf(page)}`, project.secretKey);
      const like = body.metrics.find((m: { metric: string }) => m.metric === 'like').difference;
      expect(rows[i].difference).toBe(`${pp(like.value)}[${pp(like.low)}, ${pp(like.high)}]`);
    }
    await choose(page, '#by', 'segment');
    await expect(page.$$eval('#breakdown-body tr', (trs) => trs.map((tr) => tr.getAttribute('data-value')))).resolves.toEqual(['casual', 'pro']);

    const best = await page.$$eval('#best li', (items) => items.map((i) => i.getAttribute('data-video')));
    const worst = await page.$$eval('#worst li', (items) => items.map((i) => i.getAttribute('data-video')));
    expect(best.length).toBe(10);
    expect(worst.length).toBe(10);
    const ranking = await get(`${api.url}/v1/metrics/videos?limit=10`, project.secretKey);
    expect(best).toEqual(ranking.body.best.map((v: { videoId: string }) => v.videoId));
    expect(worst).toEqual(ranking.body.worst.map((v: { videoId: string }) => v.videoId));
    await choose(page, '#videos-version', 'seedance:1.0');
    const versionsShown = await page.$$eval('#best li small, #worst li small', (items) => items.map((i) => i.textContent!.split(' · ')[0]));
    expect(new Set(versionsShown)).toEqual(new Set(['1.0']));
    await choose(page, '#category', 'pets');
    const categoriesShown = await page.$$eval('#best li small', (items) => items.map((i) => i.textContent!.split(' · ')[1]));
    expect(categoriesShown.length).toBeGreaterThan(0);
    expect(new Set(categoriesShown)).toEqual(new Set(['pets']));
    expect(errors).toEqual([]);
    await page.close();
  }, 60000);

  it('reads a rating dimension: its metrics in the chart, the comparison and the URL, and back to overall', async () => {
    const { page, errors } = await open(ratedProject.secretKey, '?dimension=text_alignment&metric=rating');
    await expect(page.$$eval('#dimension option', (os) => os.map((o) => (o as HTMLOptionElement).value))).resolves.toEqual(['', 'visual_quality', 'motion_quality', 'text_alignment']);
    await expect(page.$eval('#dimension', (s) => (s as HTMLSelectElement).value)).resolves.toBe('text_alignment');
    await expect(page.$$eval('#metric option', (os) => os.map((o) => (o as HTMLOptionElement).value))).resolves.toEqual(['rating', 'satisfaction']);
    await expect(page.$eval('#chart svg', (svg) => svg.getAttribute('data-metric'))).resolves.toBe('rating');
    const answer = await get(`${api.url}/v1/metrics/satisfaction?${await windowOf(page)}&granularity=day&groupBy=modelVersion&dimension=text_alignment`, ratedProject.secretKey);
    const expected = answer.body.series.map((p: { metrics: { rating: { value: number } } }) => p.metrics.rating.value);
    expect(expected.length).toBeGreaterThan(2);
    expect((await pointValues(page)).map(Number).sort()).toEqual([...expected].sort());
    await expect(page.$$eval('#compare-body tr', (rows) => rows.map((r) => r.getAttribute('data-metric')))).resolves.toEqual(['rating', 'satisfaction']);
    await expect(page.textContent('#status')).resolves.toContain('viewers who rated text alignment');
    await expect(page.textContent('#videos-note')).resolves.toContain('text alignment rating');

    await choose(page, '#dimension', 'visual_quality'); // nobody rated it
    await expect(state(page)).resolves.toBe('empty');
    expect(params(page)).toMatchObject({ dimension: 'visual_quality', metric: 'rating' });
    await choose(page, '#dimension', '');
    expect(params(page).dimension).toBeUndefined();
    await expect(page.$eval('#metric', (s) => (s as HTMLSelectElement).value)).resolves.toBe('satisfaction');
    await expect(page.$eval('#chart svg', (svg) => svg.getAttribute('data-metric'))).resolves.toBe('satisfaction');
    expect(errors).toEqual([]);
    await page.close();
  }, 60000);

  it('draws one dot and interval per version when the data sit in few time buckets', async () => {
    const { page, errors } = await open(fresh.secretKey, '?metric=like');
    await expect(page.$eval('#chart svg', (svg) => svg.getAttribute('data-view'))).resolves.toBe('dots');
    const dots = await page.$$eval('#chart g.series', (groups) => groups.map((g) => ({
      version: g.getAttribute('data-version'),
      points: g.querySelectorAll('circle.point').length,
      whiskers: g.querySelectorAll('line.whisker').length,
      value: Number(g.querySelector('circle.point')!.getAttribute('data-value')),
      low: Number(g.querySelector('circle.point')!.getAttribute('data-low')),
      high: Number(g.querySelector('circle.point')!.getAttribute('data-high')),
    })));
    expect(dots.map((d) => [d.version, d.points, d.whiskers])).toEqual([['2.0', 1, 1], ['2.1', 1, 1]]);
    for (const d of dots) {
      expect(d.low).toBeLessThan(d.value);
      expect(d.high).toBeGreaterThan(d.value);
    }
    await expect(page.$$eval('#chart path.line', (paths) => paths.length)).resolves.toBe(0);
    await expect(page.textContent('#chart-sub')).resolves.toContain('1 time bucket');
    expect(errors).toEqual([]);
    await page.close();
  }, 60000);

  it('shows always-valid intervals by default and fixed-horizon ones on request, says which, and flags a sample-ratio mismatch', async () => {
    const { page, errors } = await open(fresh.secretKey, '?metric=like&by=category');
    await expect(page.isVisible('#inference-label')).resolves.toBe(true);
    await expect(page.textContent('#compare-note')).resolves.toContain('always-valid');
    const shownInterval = () => page.$eval('#compare-body tr[data-metric=like] td[data-label=Difference] small', (s) => s.textContent);
    const pp = (v: number) => `${v > 0 ? '+' : ''}${(v * 100).toFixed(2)} pp`;
    const base = `${api.url}/v1/metrics/compare?model=seedance&baseline=2.0&candidate=2.1`;
    const answer = (await get(base, fresh.secretKey)).body;
    const like = answer.metrics.find((m: { metric: string }) => m.metric === 'like');
    expect(await shownInterval()).toBe(`[${pp(like.alwaysValid.low)}, ${pp(like.alwaysValid.high)}]`);
    // The unknown category is a group of its own in the breakdown.
    await expect(page.$$eval('#breakdown-body tr', (trs) => trs.map((tr) => tr.getAttribute('data-value')))).resolves.toEqual(['pets', '(unknown)']);

    await choose(page, '#inference', 'fixed');
    expect(params(page)).toMatchObject({ inference: 'fixed' });
    await expect(page.textContent('#compare-note')).resolves.toContain('fixed-horizon');
    expect(await shownInterval()).toBe(`[${pp(like.fixedHorizon.low)}, ${pp(like.fixedHorizon.high)}]`);
    // Always-valid intervals pay for looking at any time: they are wider.
    expect(like.alwaysValid.high - like.alwaysValid.low).toBeGreaterThan(like.fixedHorizon.high - like.fixedHorizon.low);
    await expect(page.isVisible('#srm')).resolves.toBe(false); // no split declared: no test

    // Five videos each where 90:10 was declared: the page says so loudly.
    const skewed = await open(fresh.secretKey, '?split=90:10');
    await expect(skewed.page.isVisible('#srm')).resolves.toBe(true);
    await expect(skewed.page.getAttribute('#srm', 'class')).resolves.toContain('mismatch');
    await expect(skewed.page.textContent('#srm')).resolves.toMatch(/SAMPLE RATIO MISMATCH/i);
    const even = await open(fresh.secretKey, '?split=50:50');
    await expect(even.page.textContent('#srm')).resolves.toContain('Traffic split as declared');
    await expect(even.page.getAttribute('#srm', 'class')).resolves.not.toContain('mismatch');
    expect([...errors, ...skewed.errors, ...even.errors]).toEqual([]);
    await Promise.all([page.close(), skewed.page.close(), even.page.close()]);
  }, 60000);

  it('says when there is no data, and clears every chart when a load fails', async () => {
    // Empty: a window (from the URL) without viewers.
    const { page, errors } = await open(project.secretKey, '?from=2026-01-01&to=2026-01-03');
    expect(await state(page)).toBe('empty');
    await expect(page.isVisible('#empty')).resolves.toBe(true);
    await expect(page.textContent('#empty-text')).resolves.toContain('No viewers between 2026-01-01 00:00 and 2026-01-03 00:00 UTC');
    await expect(page.isVisible('#answers')).resolves.toBe(false);
    await expect(page.$$eval('#chart svg, #compare-body tr', (nodes) => nodes.length)).resolves.toBe(0);

    // Loading: while the api has not answered, the page says so.
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    await page.route('**/v1/metrics/satisfaction*', async (route) => { await held; await route.continue(); });
    const beforeLoad = await renders(page);
    await page.selectOption('#range', '7d');
    await page.waitForFunction(() => document.body.dataset.state === 'loading');
    await expect(page.textContent('#status')).resolves.toContain('Loading');
    release();
    await rendered(page, beforeLoad);
    await page.unroute('**/v1/metrics/satisfaction*');
    expect(await state(page)).toBe('ready');
    await expect(page.$$eval('#chart circle.point', (nodes) => nodes.length)).resolves.toBeGreaterThan(0);

    // Error: the api fails; nothing of the earlier chart or table stays on screen as if it answered the new filters.
    await page.route('**/v1/metrics/satisfaction*', (route) => route.fulfill({
      status: 500, contentType: 'application/json', body: JSON.stringify({ error: { code: 'INTERNAL', message: 'database unavailable' } }),
    }));
    await choose(page, '#metric', 'like');
    expect(await state(page)).toBe('error');
    await expect(page.textContent('#problem-text')).resolves.toContain('database unavailable');
    await expect(page.isVisible('#problem')).resolves.toBe(true);
    await expect(page.$$eval('#chart svg, #compare-body tr, #breakdown-body tr, #best li, #worst li, #legend .legend-item', (nodes) => nodes.length)).resolves.toBe(0);
    await expect(page.isVisible('#answers')).resolves.toBe(false);
    await page.unroute('**/v1/metrics/satisfaction*');
    const beforeRetry = await renders(page);
    await page.click('#retry');
    await rendered(page, beforeRetry);
    expect(await state(page)).toBe('ready');
    await expect(page.$eval('#chart svg', (svg) => svg.getAttribute('data-metric'))).resolves.toBe('like');
    await expect(page.isVisible('#problem')).resolves.toBe(false);

    // A link the api refuses (the window ends before it starts): the api's own words, no chart.
    const bad = await open(project.secretKey, '?from=2026-01-05&to=2026-01-01');
    expect(await state(bad.page)).toBe('error');
    await expect(bad.page.textContent('#problem-text')).resolves.toContain('from must be before to');
    await expect(bad.page.$$eval('#chart svg', (nodes) => nodes.length)).resolves.toBe(0);
    expect([...errors, ...bad.errors]).toEqual([]);
    await bad.page.close();
    await page.close();
  }, 60000);

  it('fits a 390 px wide phone without horizontal scrolling', async () => {
    const { page, errors } = await open(project.secretKey, '?metric=like&by=category', { width: 390, height: 844 });
    expect(await state(page)).toBe('ready');
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wide = Array.from(document.querySelectorAll('body *')).filter((node) => {
        const box = node.getBoundingClientRect();
        return box.width > 0 && (box.right > width + 0.5 || box.left < -0.5);
      }).map((node) => `${node.tagName.toLowerCase()}#${node.id}.${node.getAttribute('class') ?? ''}`);
      return { scroll: document.documentElement.scrollWidth, width, wide };
    });
    expect(overflow.wide).toEqual([]);
    expect(overflow.scroll).toBeLessThanOrEqual(overflow.width);
    // The chart is drawn for the phone's width (readable text), and the table rows stack with their labels.
    await expect(page.$eval('#chart svg', (svg) => Number(svg.getAttribute('width')))).resolves.toBeLessThanOrEqual(390);
    await expect(page.$eval('#compare-body tr[data-metric=like] td[data-label=Candidate]', (td) => getComputedStyle(td, '::before').content)).resolves.toBe('"Candidate"');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-phone.png'), fullPage: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-phone-top.png') });
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
