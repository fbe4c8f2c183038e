/**
 * `npm run eval:calibration`: is "did version B satisfy users more?" answered at the error rate it claims?
 *
 * A/A simulations through the real api, ingest-worker, Kafka and PostgreSQL of this machine (as eval:fetv starts
 * them): two versions drawn from the same generator, no true difference. Some generated videos are simply better than
 * others (a video effect, N(0, 0.7²) on the logit of every positive signal) and some users like everything (a user
 * effect, N(0, 0.8²)), so viewers of one video, and videos of one user, are correlated: the unit of independence is
 * not the (video, user) row.
 *
 * Worlds (each replicate is one pair of versions: model `<world>-<replicate>`, versions `a` and `b`, all in one
 * project, all ingested at once in batches of 1000, then one compare per replicate and look):
 *   - design `feed`: every user sees videos of both versions; `split`: users are split in two, each sees one version.
 *   - several cluster sizes: 4, 16 and 100 viewers per video.
 *   - first events spread uniformly over 7 days; worlds marked "looks" are also asked once a day (`to` = day 1 … 7),
 *     as a dashboard looked at daily would be (peeking).
 *   - a power world: version b has +3 points of like rate (its like logit shifted so the marginal rate rises by 0.03).
 * Per viewer: one `progress` event (watch ratio; completed at ≥ 98%), and like / favorite / share / export / dislike /
 * regenerate events each with its own base rate and the same video and user effects (negative signals take them with
 * a minus sign).
 *
 * What is counted, per replicate:
 *   - fixed horizon (`fixedHorizon=true` when the api knows it; otherwise the api's only answer): each metric's
 *     p < 0.05 (per-metric false positives), any metric `significant` (any-metric false positives);
 *   - the default answer (always-valid when the api has it) at each of the 7 daily looks: significant at any look
 *     (peeking), and the same for the fixed-horizon answer looked at daily;
 *   - power: like significant and positive (default and fixed horizon, Benjamini–Hochberg over the 11 metrics), and
 *     like's own p < 0.05 as the one primary metric (default and fixed horizon). Next to it, the correctly-sized fixed
 *     test: the ORACLE, a z test whose standard error is the true sampling SD of the like difference at that design
 *     (the SD of the simulated rows' differences across the world's replicates), and its own A/A rate; and the former
 *     reference, a Welch t on per-video like rates (videos as the only clusters: anti-conservative in the split
 *     design, whose videos share their arm's users). `npm run sim:power` runs the same worlds offline through the
 *     api's estimator with many more replicates (scripts/power-simulation.ts).
 *   - se ratio: the spread of the A/A differences across replicates ÷ the mean standard error the api's fixed-horizon
 *     interval implies (half-width / 1.96): 1 when the intervals are as wide as the data allow.
 *
 *   npm run eval:calibration                                 # 200 replicates per A/A world, 100 for power
 *   npm run eval:calibration -- --replicates 20 --power-replicates 10 --scale 0.25   # a smoke-size run
 *   npm run eval:calibration -- --worlds power-feed-m16 --power-replicates 100      # only the power world
 *
 * Needs PostgreSQL and Kafka up (npm run infra:up). Last line: JSON { aaFalsePositiveRate, aaAnyMetricRate,
 * peekingRate, powerAtLift, … }.
 */
import { parseArgs } from 'node:util';
import { AppProcess, TestContext, get, post, sleep } from '../test/support/harness';
import { runEval } from './eval-run';
import { welchPerVideo } from './power-simulation';
import { DAY_MS as DAY, DURATION_MS, LOOKS, USER_SIGMA, VIDEO_SIGMA, World, calibrationWorlds, logitShiftFor, prng, simulateReplicate } from './calibration-world';

const ALPHA = 0.05;

interface Replicate {
  world: World;
  index: number;
  model: string;
  /** Per arm, per video: [viewers, likes], for the reference cluster test. */
  videoLikes: [number, number][][];
}

interface Generated {
  generations: Record<string, unknown>[];
  events: Record<string, unknown>[];
  replicates: Replicate[];
}

/** One world's generations and events, deterministic in (seed, world): the views of scripts/calibration-world.ts. */
function generate(world: World, seed: number, start: number): Generated {
  const rand = prng(seed);
  const generations: Record<string, unknown>[] = [];
  const events: Record<string, unknown>[] = [];
  const replicates: Replicate[] = [];
  const shift = world.lift ? logitShiftFor(world.lift / 100) : 0;
  for (let r = 0; r < world.replicates; r++) {
    const model = `${world.name}-${r}`;
    const simulated = simulateReplicate(world, rand, start, shift);
    const replicate: Replicate = { world, index: r, model, videoLikes: [[], []] };
    simulated.arms.forEach((videos, arm) => {
      const version = arm === 0 ? 'a' : 'b';
      videos.forEach((views, v) => {
        const videoId = `${model}-${version}${v}`;
        generations.push({
          videoId, requestId: `${model}-r${v}`, prompt: `calibration ${model} ${v}`, model, modelVersion: version,
          durationMs: DURATION_MS, features: [0],
        });
        let likes = 0;
        for (const view of views) {
          let step = 0;
          const event = (type: string, extra: Record<string, unknown> = {}) => events.push({
            eventId: `${videoId}-${view.user}-${step}`, type, videoId, userId: `${model}-u${view.user}`,
            occurredAt: new Date(view.at + 1000 * step++).toISOString(), ...extra,
          });
          event('progress', { watchMs: Math.round(view.watchRatio * DURATION_MS), durationMs: DURATION_MS });
          for (const signal of view.signals) event(signal);
          if (view.signals.includes('like')) likes++;
        }
        replicate.videoLikes[arm].push([views.length, likes]);
      });
    });
    replicates.push(replicate);
  }
  return { generations, events, replicates };
}

// ---- the references, from the simulated rows ----

/** b − a in like rate over all the replicate's rows (what compare reads: the window holds every row). */
function likeDifference(replicate: Replicate): number {
  const rate = (arm: [number, number][]) => arm.reduce((s, [, likes]) => s + likes, 0) / arm.reduce((s, [n]) => s + n, 0);
  return rate(replicate.videoLikes[1]) - rate(replicate.videoLikes[0]);
}

// ---- the api ----

interface MetricRow {
  metric: string;
  pValue: number | null;
  significant: boolean;
  difference: { value: number | null; low: number | null; high: number | null; standardError?: number | null };
}
interface Answer { metrics: MetricRow[]; method?: unknown; [key: string]: unknown }

class Api {
  fixedHorizon = false;
  queries = 0;
  constructor(private readonly api: AppProcess, private readonly key: string, private readonly from: number) {}

  async compare(model: string, toMs: number, fixedHorizon: boolean): Promise<Answer> {
    const params = new URLSearchParams({
      model, baseline: 'a', candidate: 'b', from: new Date(this.from).toISOString(), to: new Date(toMs).toISOString(),
    });
    if (fixedHorizon && this.fixedHorizon) params.set('fixedHorizon', 'true');
    for (let attempt = 0; ; attempt++) {
      const response = await get(`${this.api.url}/v1/metrics/compare?${params}`, this.key);
      this.queries++;
      if (response.status === 200) return response.body as Answer;
      if (response.status !== 429 && response.status !== 503 || attempt > 5) {
        throw new Error(`compare ${params}: ${response.status} ${JSON.stringify(response.body)}`);
      }
      await sleep(200 * (attempt + 1));
    }
  }

  /** Whether this api has a classical mode next to its default (it answers 400 naming fixedHorizon otherwise). */
  async probe(model: string, toMs: number): Promise<void> {
    this.fixedHorizon = true;
    try {
      await this.compare(model, toMs, true);
    } catch {
      this.fixedHorizon = false;
    }
  }
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

async function postBatches(api: AppProcess, key: string, path: string, field: string, rows: Record<string, unknown>[]): Promise<number> {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < rows.length; i += 1000) batches.push(rows.slice(i, i + 1000));
  let accepted = 0;
  await pool(batches, 4, async (batch) => {
    for (let attempt = 0; ; attempt++) {
      const response = await post(`${api.url}${path}`, key, { [field]: batch });
      if (response.status === 202) { accepted += batch.length; return; }
      if (response.status !== 429 && response.status !== 503 || attempt > 8) {
        throw new Error(`${path}: ${response.status} ${JSON.stringify(response.body).slice(0, 500)}`);
      }
      await sleep(250 * (attempt + 1));
    }
  });
  return accepted;
}

async function waitForCount(ctx: TestContext, table: string, projectId: string, expected: number, what: string): Promise<void> {
  const deadline = Date.now() + 3_600_000;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const n = await ctx.count(`SELECT count(*) FROM ${table} WHERE project_id = $1`, [projectId]);
    if (n >= expected) return;
    if (n !== last) { last = n; lastChange = Date.now(); }
    if (Date.now() > deadline || Date.now() - lastChange > 300_000) throw new Error(`${what}: ${n} of ${expected} stored`);
    await sleep(1000);
  }
}

// ---- counting ----

interface Tally { hits: number; n: number }
const tally = (): Tally => ({ hits: 0, n: 0 });
const add = (t: Tally, hit: boolean) => { t.n++; if (hit) t.hits++; };
const rate = (t: Tally) => (t.n ? t.hits / t.n : null);
/** The largest rate a 5% test shows within binomial noise (two standard errors) at n replicates. */
const noiseBound = (n: number) => ALPHA + 2 * Math.sqrt((ALPHA * (1 - ALPHA)) / n);
const anySignificant = (a: Answer) => a.metrics.some((m) => m.significant);
/** The standard error the answer gives (or, from an api that gives none, the normal one its interval implies). */
const standardError = (m: MetricRow) => m.difference.standardError
  ?? (m.difference.low !== null && m.difference.high !== null ? (m.difference.high - m.difference.low) / 2 / 1.959964 : null);

interface WorldResult {
  world: World;
  perMetric: Map<string, Tally>;
  satisfaction: Tally;
  anyFixed: Tally;
  anyDefaultFinal: Tally;
  peekDefault: Tally;
  peekFixed: Tally;
  likeFixed: Tally;
  likeDefault: Tally;
  likePrimary: Tally;
  /** Like p < 0.05 (↑ in a lift world) from the api's fixed-horizon answer, like as the one primary metric. */
  likePrimaryFixed: Tally;
  /** Welch t on per-video like rates (videos as the only clusters): the former reference. */
  welch: Tally;
  /** Per replicate, the like-rate difference of its rows, for the oracle-sized test (counted once all are in). */
  likeDifferences: number[];
  /** A z test with the true SD of the difference (across this world's replicates): the correctly-sized reference. */
  oracle: Tally;
  differences: Map<string, number[]>;
  ses: Map<string, number[]>;
}

function sampleSd(xs: number[]): number {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      replicates: { type: 'string', default: '200' },
      'power-replicates': { type: 'string', default: '100' },
      scale: { type: 'string', default: '1' },
      seed: { type: 'string', default: '11' },
      concurrency: { type: 'string', default: '6' },
      worlds: { type: 'string' },
    },
  });
  const replicates = Number(values.replicates);
  const powerReplicates = Number(values['power-replicates']);
  const scale = Number(values.scale);
  const seed = Number(values.seed);
  const wanted = values.worlds?.split(',');
  const worlds = calibrationWorlds(replicates, powerReplicates, scale).filter((w) => !wanted || wanted.includes(w.name));
  if (worlds.length === 0) throw new Error(`--worlds: none of ${values.worlds} (worlds: ${calibrationWorlds(1, 1).map((w) => w.name).join(', ')})`);
  const start = Math.floor(Date.now() / DAY) * DAY - 8 * DAY;
  const end = start + LOOKS * DAY;
  const started = performance.now();

  const limits = { RATE_LIMIT_INGEST_PER_SECOND: '0', RATE_LIMIT_SECRET_PER_SECOND: '0' };
  await runEval('calibration', { featureDim: 1, apiEnv: limits }, async ({ ctx, api: app, project }) => {

    // Ingest: every world's generations first (so every event is attributed when it lands), then the events.
    // A world is generated twice (it is deterministic): once for its generations, once for its events, so that only
    // one world's events are in memory at a time.
    const generated = worlds.map((w, i) => ({ ...generate(w, seed * 1000 + i, start), events: [] }));
    const generations = generated.flatMap((g) => g.generations);
    await postBatches(app, project.ingestKey, '/v1/generations', 'generations', generations);
    await waitForCount(ctx, 'generations', project.projectId, generations.length, 'generations');
    let events = 0;
    for (const [i, w] of worlds.entries()) {
      events += await postBatches(app, project.ingestKey, '/v1/events', 'events', generate(w, seed * 1000 + i, start).events);
    }
    await waitForCount(ctx, 'feedback_events', project.projectId, events, 'events');
    const ingestSeconds = (performance.now() - started) / 1000;
    const viewers = worlds.reduce((s, w) => s + w.replicates * 2 * w.videosPerArm * w.viewersPerVideo, 0);

    // Queries: per replicate the fixed-horizon answer and the default one at the end, and at every daily look.
    const api = new Api(app, project.secretKey, start);
    await api.probe(generated[0].replicates[0].model, end);
    const queryStarted = performance.now();
    const results: WorldResult[] = [];
    let method: unknown = null;
    for (const g of generated) {
      const world = g.replicates[0].world;
      const result: WorldResult = {
        world, perMetric: new Map(), satisfaction: tally(), anyFixed: tally(), anyDefaultFinal: tally(), peekDefault: tally(),
        peekFixed: tally(), likeFixed: tally(), likeDefault: tally(), likePrimary: tally(), likePrimaryFixed: tally(), welch: tally(), likeDifferences: [], oracle: tally(),
        differences: new Map(), ses: new Map(),
      };
      await pool(g.replicates, Number(values.concurrency), async (replicate) => {
        const fixed = await api.compare(replicate.model, end, true);
        const final = api.fixedHorizon ? await api.compare(replicate.model, end, false) : fixed;
        method ??= final.method ?? null;
        for (const m of fixed.metrics) {
          if (m.pValue === null) continue;
          if (!result.perMetric.has(m.metric)) result.perMetric.set(m.metric, tally());
          add(result.perMetric.get(m.metric)!, m.pValue < ALPHA);
          if (m.difference.value !== null) (result.differences.get(m.metric) ?? result.differences.set(m.metric, []).get(m.metric)!).push(m.difference.value);
          const se = standardError(m);
          if (se !== null) (result.ses.get(m.metric) ?? result.ses.set(m.metric, []).get(m.metric)!).push(se);
        }
        const sat = fixed.metrics.find((m) => m.metric === 'satisfaction');
        add(result.satisfaction, sat?.pValue !== null && sat?.pValue !== undefined && sat.pValue < ALPHA);
        add(result.anyFixed, anySignificant(fixed));
        add(result.anyDefaultFinal, anySignificant(final));
        const likeWins = (a: Answer) => a.metrics.some((m) => m.metric === 'like' && m.significant && (m.difference.value ?? 0) > 0);
        add(result.likeFixed, likeWins(fixed));
        add(result.likeDefault, likeWins(final));
        // Like as the one pre-registered primary metric: its own p-value (the default answer's), no correction.
        add(result.likePrimary, final.metrics.some((m) => m.metric === 'like' && m.pValue !== null && m.pValue < ALPHA && (m.difference.value ?? 0) > 0));
        add(result.likePrimaryFixed, fixed.metrics.some((m) => m.metric === 'like' && m.pValue !== null && m.pValue < ALPHA && (world.lift === 0 || (m.difference.value ?? 0) > 0)));
        const welch = welchPerVideo(replicate.videoLikes);
        add(result.welch, welch.p < ALPHA && (world.lift === 0 || welch.difference > 0));
        result.likeDifferences.push(likeDifference(replicate));
        if (world.looks) {
          let peekDefault = anySignificant(final);
          let peekFixed = anySignificant(fixed);
          for (let day = 1; day < LOOKS; day++) {
            const to = start + day * DAY;
            const answer = await api.compare(replicate.model, to, false);
            peekDefault ||= anySignificant(answer);
            peekFixed ||= api.fixedHorizon ? anySignificant(await api.compare(replicate.model, to, true)) : peekDefault;
          }
          add(result.peekDefault, peekDefault);
          add(result.peekFixed, peekFixed);
        }
      });
      // The oracle: the true sampling SD of the difference at this design is the SD across the world's replicates.
      const sdOfDifferences = sampleSd(result.likeDifferences);
      for (const d of result.likeDifferences) add(result.oracle, Math.abs(d / sdOfDifferences) > 1.959964 && (world.lift === 0 || d > 0));
      results.push(result);
    }
    const querySeconds = (performance.now() - queryStarted) / 1000;
    report(results, { viewers, events, ingestSeconds, querySeconds, queries: api.queries, fixedHorizon: api.fixedHorizon, method, replicates, powerReplicates });
  });
}

function report(results: WorldResult[], run: {
  viewers: number; events: number; ingestSeconds: number; querySeconds: number; queries: number; fixedHorizon: boolean;
  method: unknown; replicates: number; powerReplicates: number;
}): void {
  const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
  const flag = (t: Tally) => (t.n === 0 ? '' : rate(t)! <= noiseBound(t.n) ? ' ok' : ' OVER');
  const cell = (t: Tally) => (t.n ? `${pct(rate(t))} (${t.hits}/${t.n})${flag(t)}` : '–');
  const share = (t: Tally) => (t.n ? `${pct(rate(t))} (${t.hits}/${t.n})` : '–');
  const aa = results.filter((r) => r.world.lift === 0);
  const power = results.filter((r) => r.world.lift !== 0);
  const pooled = (pick: (r: WorldResult) => Tally, from = aa) => from.reduce((s, r) => ({ hits: s.hits + pick(r).hits, n: s.n + pick(r).n }), tally());
  const sd = (xs: number[]) => { const m = xs.reduce((s, x) => s + x, 0) / xs.length; return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1)); };
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const seRatio = (r: WorldResult, metric: string) => {
    const d = r.differences.get(metric) ?? [];
    const s = r.ses.get(metric) ?? [];
    return d.length > 2 && s.length ? sd(d) / mean(s) : null;
  };
  const classical = run.fixedHorizon ? 'fixedHorizon=true' : 'the api\'s only answer (no fixedHorizon option)';
  const lines = [
    `A/A calibration through the api: ${run.viewers.toLocaleString('en')} viewers, ${run.events.toLocaleString('en')} events ingested in ${run.ingestSeconds.toFixed(0)} s; ${run.queries} compare queries in ${run.querySeconds.toFixed(0)} s`,
    `video effect σ = ${VIDEO_SIGMA}, user effect σ = ${USER_SIGMA} (logit); fixed horizon = ${classical}; default answer method: ${JSON.stringify(run.method)}`,
    `"ok": at most 5% + 2 binomial standard errors at that many replicates`,
    '',
    '| world | design | videos/arm | viewers/video | reps | satisfaction p<0.05 | any metric (fixed) | any metric (default, end) | 7 looks (default) | 7 looks (fixed) | se ratio like | se ratio satisfaction | like p<0.05 (fixed) | oracle-sized z test, like | Welch t on per-video like rates |',
    '|---|---|---:|---:|---:|---|---|---|---|---|---:|---:|---|---|---|',
    ...aa.map((r) => `| ${r.world.name} | ${r.world.design} | ${r.world.videosPerArm} | ${r.world.viewersPerVideo} | ${r.world.replicates} | ${cell(r.satisfaction)} | ${cell(r.anyFixed)} | ${cell(r.anyDefaultFinal)} | ${cell(r.peekDefault)} | ${cell(r.peekFixed)} | ${seRatio(r, 'like')?.toFixed(2) ?? '–'} | ${seRatio(r, 'satisfaction')?.toFixed(2) ?? '–'} | ${cell(r.likePrimaryFixed)} | ${cell(r.oracle)} | ${share(r.welch)} |`),
    '',
    '| metric | fixed-horizon p < 0.05, all A/A worlds |',
    '|---|---|',
  ];
  const metrics = [...new Set(aa.flatMap((r) => [...r.perMetric.keys()]))];
  const perMetric = Object.fromEntries(metrics.map((m) => [m, pooled((r) => r.perMetric.get(m) ?? tally())]));
  for (const m of metrics) lines.push(`| ${m} | ${cell(perMetric[m])} |`);
  lines.push(
    '',
    'The correctly-sized reference is the oracle: a z test whose SE is the true SD of the like difference across the',
    'world\'s replicates (so it is sized by construction, whatever the design). Welch on per-video rates treats videos as',
    'the only clusters: in the split design all of an arm\'s videos share its users, which it ignores (anti-conservative).',
    '',
    '| power world | design | videos/arm | viewers/video | reps | true lift | like significant ↑ (default, BH over 11 metrics) | (fixed horizon) | like p < 0.05 ↑ as the primary metric (default) | (fixed horizon) | oracle-sized z test (fixed, correctly sized) | Welch t on per-video like rates |',
    '|---|---|---:|---:|---:|---:|---|---|---|---|---|---|',
  );
  for (const r of power) lines.push(`| ${r.world.name} | ${r.world.design} | ${r.world.videosPerArm} | ${r.world.viewersPerVideo} | ${r.world.replicates} | +${r.world.lift} pts like | ${share(r.likeDefault)} | ${share(r.likeFixed)} | ${share(r.likePrimary)} | ${share(r.likePrimaryFixed)} | ${share(r.oracle)} | ${share(r.welch)} |`);
  console.log(lines.join('\n'));
  const allTests = pooled((r) => [...r.perMetric.values()].reduce((s, t) => ({ hits: s.hits + t.hits, n: s.n + t.n }), tally()));
  const worst = aa.flatMap((r) => [...r.perMetric.entries()].map(([metric, t]) => ({ world: r.world.name, metric, rate: rate(t), n: t.n })))
    .sort((a, b) => (b.rate ?? 0) - (a.rate ?? 0))[0] ?? null;
  const round = (x: number | null) => (x === null ? null : Math.round(x * 10000) / 10000);
  const peekWorlds = aa.filter((r) => r.world.looks);
  const within = (t: Tally) => t.n > 0 && rate(t)! <= noiseBound(t.n);
  const anyFixed = pooled((r) => r.anyFixed);
  const peeking = pooled((r) => r.peekDefault, peekWorlds);
  console.log(JSON.stringify({
    aaFalsePositiveRate: round(rate(allTests)),
    aaSatisfactionRate: round(rate(pooled((r) => r.satisfaction))),
    aaAnyMetricRate: round(rate(anyFixed)),
    aaAnyMetricRateDefault: round(rate(pooled((r) => r.anyDefaultFinal))),
    peekingRate: round(rate(peeking)),
    peekingRateFixedHorizon: round(rate(pooled((r) => r.peekFixed, peekWorlds))),
    powerAtLift: round(rate(pooled((r) => r.likeDefault, power))),
    powerAtLiftFixedHorizon: round(rate(pooled((r) => r.likeFixed, power))),
    powerAtLiftPrimary: round(rate(pooled((r) => r.likePrimary, power))),
    powerAtLiftPrimaryFixed: round(rate(pooled((r) => r.likePrimaryFixed, power))),
    // The correctly-sized fixed test: z with the true SD of the difference across replicates (the oracle).
    powerReferenceFixed: round(rate(pooled((r) => r.oracle, power))),
    referenceAaRate: round(rate(pooled((r) => r.oracle))),
    referenceKind: 'oracle: z test with the SD of the like difference across the world\'s replicates',
    powerWelchPerVideo: round(rate(pooled((r) => r.welch, power))),
    welchAaRate: round(rate(pooled((r) => r.welch))),
    liftPoints: power[0]?.world.lift ?? null,
    // Each rate against 5% + 2 binomial standard errors at its own number of tests: every metric over all A/A worlds,
    // any metric in every world and over all, 7 looks in every world that was looked at daily and over all.
    withinTarget: {
      perMetric: metrics.every((m) => within(perMetric[m])),
      anyMetric: aa.every((r) => within(r.anyFixed)) && within(anyFixed),
      peeking: peekWorlds.every((r) => within(r.peekDefault)) && within(peeking),
    },
    worstMetric: worst && { ...worst, rate: round(worst.rate) },
    perMetric: Object.fromEntries(metrics.map((m) => [m, round(rate(perMetric[m]))])),
    byWorld: Object.fromEntries(results.map((r) => [r.world.name, {
      satisfaction: round(rate(r.satisfaction)), anyMetric: round(rate(r.anyFixed)), anyMetricDefault: round(rate(r.anyDefaultFinal)),
      peeking: round(rate(r.peekDefault)), peekingFixedHorizon: round(rate(r.peekFixed)),
      seRatioLike: round(seRatio(r, 'like')), seRatioSatisfaction: round(seRatio(r, 'satisfaction')),
      ...(r.world.lift ? {} : { likeFixed: round(rate(r.likePrimaryFixed)), oracle: round(rate(r.oracle)), welch: round(rate(r.welch)) }),
      ...(r.world.lift ? {
        power: round(rate(r.likeDefault)), powerFixedHorizon: round(rate(r.likeFixed)), powerPrimary: round(rate(r.likePrimary)),
        powerPrimaryFixed: round(rate(r.likePrimaryFixed)), powerReference: round(rate(r.oracle)), powerWelch: round(rate(r.welch)),
      } : {}),
    }])),
    replicates: run.replicates,
    powerReplicates: run.powerReplicates,
    fixedHorizonOption: run.fixedHorizon,
    method: run.method,
    viewers: run.viewers,
    events: run.events,
    ingestSeconds: Math.round(run.ingestSeconds),
    querySeconds: Math.round(run.querySeconds),
  }));
}

void main();
