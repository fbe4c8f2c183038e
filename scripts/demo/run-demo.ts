import { FlywheelConfig, loadConfig } from '@flywheel/config';
import { writeDemoArtifacts } from './demo-report';
import {
  Candidate, DEFAULT_GENERATOR, DEFAULT_WORLD, DemoGenerator, DemoWorld, FeaturePair, Rng, SimEvent,
} from './demo-world';
import { EstimateView, FlywheelApiClient, poll } from './flywheel-api.client';
import { ConsumedSet, PreferenceSetConsumer } from './preference-set.consumer';

export interface DemoOptions {
  apiUrl: string;
  ingestKey: string;
  secretKey: string;
  /** Rounds of feedback → preference set → generator update (default 6). */
  rounds?: number;
  /** Requests per round that users see (K candidates each). */
  requests?: number;
  /** Requests per round nobody sees: the reward model ranks their candidates. */
  shadowRequests?: number;
  viewersPerRequest?: number;
  candidates?: number;
  seed?: number;
  learningRate?: number;
  sigma?: number;
  normCap?: number;
  /** Weight of reward-model pairs relative to observed ones in the generator update. */
  rewardModelWeight?: number;
  model?: string;
  /** Makes video and request ids unique across runs (default: a time stamp). */
  runId?: string;
  /** Kafka brokers and topic prefix; default loadConfig() (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX). */
  config?: FlywheelConfig;
  /** Where demo.html and demo.json go; null writes nothing. Default 'artifacts'. */
  outDir?: string | null;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Time allowed for each wait on the services. */
  stepTimeoutMs?: number;
}

export interface RoundResult {
  round: number;
  version: string;
  parentVersion: string | null;
  requests: { observed: number; shadow: number };
  generations: number;
  events: number;
  /** E[utility] of this round's generator under the hidden preferences. */
  trueSatisfaction: number;
  /** trueSatisfaction / optimum. */
  ofOptimum: number;
  /** (true − true of round 0) / (optimum − true of round 0). */
  gapClosed: number;
  /** Mean cosine between θ_c and the population taste. */
  alignment: number;
  /** From GET /v1/metrics/satisfaction for this version. */
  observed: { satisfaction: EstimateView; like: number | null; regenerate: number | null; export: number | null; viewers: number };
  rewardModel: { jobId: string; modelId: string | null; version: number | null; status: string | null; accuracy: number | null; promotion: string | null; error: string | null };
  preferenceSet: { id: string; pairs: number; ties: number; rankings: number; bySource: Record<string, number>; contentSha256: string | null; published: number };
  consumed: { pairs: number; rankings: number; usedObserved: number; usedRewardModel: number; skippedTies: number; unknownVideos: number; duplicates: number };
  update: { step: number; pairsPerCategory: number[] };
  control: { randomPairs: number; frozen: number };
  seconds: number;
}

export interface DemoResult {
  runId: string;
  projectId: string;
  model: string;
  settings: Required<Omit<DemoOptions, 'apiUrl' | 'ingestKey' | 'secretKey' | 'config' | 'outDir' | 'log' | 'runId'>>;
  world: typeof DEFAULT_WORLD & { categories: string[] };
  optimum: { value: number; normCap: number; note: string };
  rounds: RoundResult[];
  /** The generator trained on the last round's feedback (registered, not yet shown to users). */
  final: { version: string; trueSatisfaction: number; ofOptimum: number; gapClosed: number; alignment: number; control: { randomPairs: number; frozen: number } };
  compare: { baseline: string; candidate: string; satisfaction: { baseline: number | null; candidate: number | null; difference: number | null; low: number | null; high: number | null; pValue: number | null; significant: boolean } | null } | null;
  generators: { modelVersion: string; parentVersion: string | null; trainedOn: string[] }[];
  topic: string;
  artifacts: { html: string; json: string } | null;
  seconds: number;
}

const DEFAULTS = {
  rounds: 6, requests: 60, shadowRequests: 40, viewersPerRequest: 5, candidates: 4, seed: 7,
  learningRate: 0.3, sigma: DEFAULT_GENERATOR.sigma, normCap: DEFAULT_GENERATOR.normCap, rewardModelWeight: 0.5,
  model: 'demo-gen', stepTimeoutMs: 120_000,
};

interface PlannedRequest {
  requestId: string;
  category: number;
  prompt: string;
  observed: boolean;
  candidates: Candidate[];
}

/**
 * The closed loop, round by round:
 *   the generator makes K candidates per request → synthetic users react (events through POST /v1/events) →
 *   Kafka → ingest-worker → satisfaction → the trainer fits a reward model (POST /v1/models/train) → a preference
 *   set of this version's observed pairs plus reward-model pairs for the requests nobody saw
 *   (POST /v1/preference-sets) → published by the trainer to flywheel.preferences.v1 (POST …/publish) → this
 *   process consumes the set from Kafka, takes a DPO step on its generator and registers the new version with its
 *   lineage (POST /v1/generators).
 * Alongside, two controls are simulated with the same requests and candidate noise: the same generator trained on
 * coin-flip pairs, and one that never updates. The true satisfaction of each is exact (DemoWorld.trueSatisfaction).
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const s = { ...DEFAULTS, ...stripUndefined(options) };
  const log = options.log ?? ((line: string) => process.stderr.write(`[demo] ${line}\n`));
  const runId = options.runId ?? started.toString(36);
  const config = options.config ?? loadConfig();
  const api = new FlywheelApiClient(options.apiUrl.replace(/\/$/, ''), options.ingestKey, options.secretKey);

  const project = await api.project();
  const world = new DemoWorld({ seed: s.seed });
  if (project.featureDim !== world.options.featureDim) {
    throw new Error(`project ${project.id} has feature dimension ${project.featureDim}; the demo world needs ${world.options.featureDim} (create it with --feature-dim ${world.options.featureDim})`);
  }
  const generatorOptions = { sigma: s.sigma, normCap: s.normCap, learningRate: s.learningRate };
  const optimum = world.optimum(s.normCap);
  let generator = DemoGenerator.initial(world, generatorOptions, s.seed);
  let control = generator.clone();
  const frozen = generator.clone();
  const baseline = world.trueSatisfaction(generator.theta);
  const ofOptimum = (v: number) => v / optimum.value;
  const gapClosed = (v: number) => (v - baseline) / (optimum.value - baseline);

  const topic = `${config.kafka.topicPrefix ? `${config.kafka.topicPrefix}.` : ''}flywheel.preferences.v1`;
  log(`project ${project.id}, ${s.rounds} rounds × (${s.requests} seen + ${s.shadowRequests} unseen requests × ${s.candidates} candidates, ${s.viewersPerRequest} viewers each); consuming ${topic}`);
  const consumer = await PreferenceSetConsumer.start(config, topic, `demo-generator-${runId}`);

  const features = new Map<string, { category: number; x: number[] }>();
  const rounds: RoundResult[] = [];
  const windowFrom = new Date(started - 2 * 3600_000).toISOString();
  let expectedEvents = project.events;
  let version = `${s.model}-v1`;
  let parentVersion: string | null = null;
  try {
    await api.registerGenerator({ model: s.model, modelVersion: version, trainedOn: [], notes: `closed-loop demo ${runId}: initial generator (random θ_c at ‖θ‖ = ${s.normCap}, σ = ${s.sigma})` });
    for (let round = 0; round < s.rounds; round++) {
      const roundStarted = Date.now();
      const trueSatisfaction = world.trueSatisfaction(generator.theta);
      const plan = planRequests(world, generator, s, runId, round);
      const generations = plan.flatMap((r) => r.candidates.map((c) => ({
        videoId: c.videoId, requestId: r.requestId, prompt: r.prompt, model: s.model, modelVersion: version,
        category: world.categories[r.category].name, durationMs: c.durationMs, uri: `s3://demo-videos/${c.videoId}.mp4`, features: c.features,
      })));
      for (const r of plan) for (const c of r.candidates) features.set(c.videoId, { category: r.category, x: c.features });

      // Generations first: a `choose` marks the other candidates passed over only when the worker knows them.
      await api.postGenerations(generations);
      await waitForVideos(api, generations.map((g) => g.videoId), s.stepTimeoutMs);
      const events = viewEvents(world, plan, s, round);
      await api.postEvents(events);
      expectedEvents += events.length;
      await poll('the ingest-worker to store the events', s.stepTimeoutMs, 200, async () => ((await api.project()).events >= expectedEvents ? true : undefined));

      const observed = await observedSatisfaction(api, s.model, version, windowFrom);
      log(`round ${round} (${version}): ${generations.length} generations, ${events.length} events stored; observed satisfaction ${fmt(observed.satisfaction.value)}; training the reward model`);

      const rewardModel = await trainRewardModel(api, s.seed, s.stepTimeoutMs);
      if (rewardModel.error) log(`round ${round}: reward model not trained (${rewardModel.error}); the set holds observed pairs only`);

      const set = await api.createPreferenceSet({ modelVersions: [version], scopes: ['request', 'prompt'], rewardModel: true, minMargin: 0.05, includeTies: false, seed: s.seed });
      const ready = await poll(`preference set ${set.id}`, s.stepTimeoutMs, 200, async () => {
        const current = await api.preferenceSet(set.id);
        if (current.status === 'failed') throw new Error(`preference set ${set.id} failed: ${current.error}`);
        return current.status === 'ready' ? current : undefined;
      });
      consumer.expect(set.id);
      const publication = await api.publish(set.id);
      if (publication.topic !== topic) {
        throw new Error(`the API published to ${publication.topic} but the demo consumes ${topic}: give the demo the API's KAFKA_TOPIC_PREFIX`);
      }
      const consumed = await consumer.waitFor(set.id, s.stepTimeoutMs);
      // The trainer records the publication done right after Kafka acknowledged its completion marker.
      const published = await poll(`publication ${publication.publicationId}`, s.stepTimeoutMs, 200, async () => {
        const current = await api.publication(set.id, publication.publicationId);
        if (current.status === 'failed') throw new Error(`publication of preference set ${set.id} failed: ${current.error}`);
        return current.status === 'done' ? current : undefined;
      });
      const { pairs, usage } = featurePairs(consumed, features, s.rewardModelWeight);
      const update = generator.update(pairs);

      // The control sees the same requests and candidate noise, and learns from coin flips instead of users.
      const controlUpdate = control.update(randomPairs(world, control, s, runId, round));
      const counts = ready.manifest?.counts;
      rounds.push({
        round, version, parentVersion,
        requests: { observed: s.requests, shadow: s.shadowRequests }, generations: generations.length, events: events.length,
        trueSatisfaction, ofOptimum: ofOptimum(trueSatisfaction), gapClosed: gapClosed(trueSatisfaction), alignment: world.alignment(generator.theta),
        observed, rewardModel,
        preferenceSet: {
          id: set.id, pairs: counts?.pairs ?? 0, ties: counts?.ties ?? 0, rankings: counts?.rankings ?? 0, bySource: counts?.bySource ?? {},
          contentSha256: ready.manifest?.contentSha256 ?? null, published: published.messages,
        },
        consumed: { pairs: consumed.pairs.length, rankings: consumed.rankings.length, ...usage, duplicates: consumed.duplicates },
        update: { step: update.stats.step, pairsPerCategory: update.stats.perCategory },
        control: { randomPairs: world.trueSatisfaction(control.theta), frozen: world.trueSatisfaction(frozen.theta) },
        seconds: (Date.now() - roundStarted) / 1000,
      });

      const next = `${s.model}-v${round + 2}`;
      await api.registerGenerator({
        model: s.model, modelVersion: next, parentVersion: version, trainedOn: [set.id],
        notes: `DPO step η = ${s.learningRate} on ${usage.usedObserved} observed + ${usage.usedRewardModel} reward-model pairs (weight ${s.rewardModelWeight}) from Kafka`,
      });
      log(`round ${round}: set ${set.id.slice(0, 8)} → ${consumed.pairs.length} pairs read from Kafka → ${next} (true satisfaction ${fmt(trueSatisfaction)} → ${fmt(world.trueSatisfaction(update.next.theta))}) in ${((Date.now() - roundStarted) / 1000).toFixed(1)} s`);
      generator = update.next;
      control = controlUpdate.next;
      parentVersion = version;
      version = next;
    }
  } finally {
    await consumer.stop().catch(() => undefined);
  }

  const finalTrue = world.trueSatisfaction(generator.theta);
  const compare = rounds.length > 1 ? await compareVersions(api, s.model, rounds[0].version, rounds[rounds.length - 1].version, windowFrom) : null;
  const generators = ((await api.generators()) as { model?: string; modelVersion: string; parentVersion?: string | null; trainedOn?: string[] }[])
    .filter((g) => g.model === undefined || g.model === s.model)
    .map((g) => ({ modelVersion: g.modelVersion, parentVersion: g.parentVersion ?? null, trainedOn: g.trainedOn ?? [] }));
  const result: DemoResult = {
    runId, projectId: project.id, model: s.model,
    settings: {
      rounds: s.rounds, requests: s.requests, shadowRequests: s.shadowRequests, viewersPerRequest: s.viewersPerRequest, candidates: s.candidates,
      seed: s.seed, learningRate: s.learningRate, sigma: s.sigma, normCap: s.normCap, rewardModelWeight: s.rewardModelWeight, model: s.model,
      stepTimeoutMs: s.stepTimeoutMs,
    },
    world: { ...world.options, categories: world.categories.map((c) => c.name) },
    optimum: { value: optimum.value, normCap: s.normCap, note: 'θ*_c = R·w̄_c/‖w̄_c‖ with w̄_c the population mean taste of category c; value = mean over categories of R·‖w̄_c‖' },
    rounds,
    final: {
      version, trueSatisfaction: finalTrue, ofOptimum: ofOptimum(finalTrue), gapClosed: gapClosed(finalTrue), alignment: world.alignment(generator.theta),
      control: { randomPairs: world.trueSatisfaction(control.theta), frozen: world.trueSatisfaction(frozen.theta) },
    },
    compare, generators, topic, artifacts: null, seconds: 0,
  };
  result.seconds = (Date.now() - started) / 1000;
  if (options.outDir !== null) result.artifacts = writeDemoArtifacts(result, options.outDir ?? 'artifacts');
  return result;
}

/** The round's requests and their candidates; the streams depend on (seed, round) only, so the control matches. */
function planRequests(world: DemoWorld, generator: DemoGenerator, s: typeof DEFAULTS, runId: string, round: number): PlannedRequest[] {
  const requests = Rng.of(s.seed, 'requests', round);
  const noise = Rng.of(s.seed, 'candidates', round);
  return Array.from({ length: s.requests + s.shadowRequests }, (_, q) => {
    const category = requests.int(world.categories.length);
    const prompts = world.categories[category].prompts;
    const prompt = prompts[requests.int(prompts.length)];
    const requestId = `${runId}-r${round}-q${String(q).padStart(3, '0')}`;
    const candidates = Array.from({ length: s.candidates }, (_, k) => ({
      videoId: `${requestId}-c${k}`, features: generator.sample(category, noise), durationMs: 4000 + 500 * requests.int(17),
    }));
    return { requestId, category, prompt, observed: q < s.requests, candidates };
  });
}

function viewEvents(world: DemoWorld, plan: PlannedRequest[], s: typeof DEFAULTS, round: number): SimEvent[] {
  const viewers = Rng.of(s.seed, 'viewers', round);
  const reactions = Rng.of(s.seed, 'reactions', round);
  const endMs = Date.now() - 1000;
  return plan.filter((r) => r.observed).flatMap((r) => world.drawViewers(viewers, s.viewersPerRequest)
    .flatMap((user) => world.react(user, r.category, r.requestId, r.candidates, reactions, endMs)));
}

/** Coin-flip pairs over every pair of candidates of every request: an update that carries no user signal. */
function randomPairs(world: DemoWorld, control: DemoGenerator, s: typeof DEFAULTS, runId: string, round: number): FeaturePair[] {
  const coin = Rng.of(s.seed, 'coin', round);
  return planRequests(world, control, s, runId, round).flatMap((r) => {
    const pairs: FeaturePair[] = [];
    for (let i = 0; i < r.candidates.length; i++) {
      for (let j = i + 1; j < r.candidates.length; j++) {
        const [a, b] = coin.bernoulli(0.5) ? [i, j] : [j, i];
        pairs.push({ category: r.category, chosen: r.candidates[a].features, rejected: r.candidates[b].features, weight: 1 });
      }
    }
    return pairs;
  });
}

/** Pairs from Kafka → pairs in feature space, from the generator's own record of what it generated. */
function featurePairs(consumed: ConsumedSet, features: Map<string, { category: number; x: number[] }>, rewardModelWeight: number) {
  const usage = { usedObserved: 0, usedRewardModel: 0, skippedTies: 0, unknownVideos: 0 };
  const pairs: FeaturePair[] = [];
  for (const p of consumed.pairs) {
    if (p.tie) {
      usage.skippedTies++;
      continue;
    }
    const chosen = features.get(p.chosen_video_id);
    const rejected = features.get(p.rejected_video_id);
    if (!chosen || !rejected || chosen.category !== rejected.category) {
      usage.unknownVideos++;
      continue;
    }
    const fromModel = p.source === 'reward_model';
    if (fromModel) usage.usedRewardModel++;
    else usage.usedObserved++;
    pairs.push({ category: chosen.category, chosen: chosen.x, rejected: rejected.x, weight: p.weight * (fromModel ? rewardModelWeight : 1) });
  }
  return { pairs, usage };
}

async function waitForVideos(api: FlywheelApiClient, videoIds: string[], timeoutMs: number): Promise<void> {
  let missing = videoIds;
  await poll(`the ingest-worker to store ${videoIds.length} generations`, timeoutMs, 200, async () => {
    const still: string[] = [];
    for (let i = 0; i < missing.length; i += 16) {
      const batch = missing.slice(i, i + 16);
      const known = await Promise.all(batch.map((id) => api.hasVideo(id)));
      batch.forEach((id, k) => known[k] || still.push(id));
    }
    missing = still;
    return missing.length === 0 ? true : undefined;
  });
}

async function observedSatisfaction(api: FlywheelApiClient, model: string, version: string, from: string): Promise<RoundResult['observed']> {
  const answer = await api.satisfaction({
    from, to: new Date(Date.now() + 3600_000).toISOString(), granularity: 'day', groupBy: 'modelVersion', model, modelVersion: version,
  });
  // Buckets are UTC days; a run across midnight has two: pool them by viewers.
  let n = 0;
  let sum = 0;
  let variance = 0;
  const rates = { like: 0, regenerate: 0, export: 0 };
  for (const b of answer.series) {
    const sat = b.metrics.satisfaction;
    if (sat?.value === null || sat === undefined) continue;
    n += sat.n;
    sum += sat.value * sat.n;
    const se = sat.low !== null && sat.high !== null ? (sat.high - sat.low) / (2 * 1.96) : 0;
    variance += (se * sat.n) ** 2;
    for (const key of Object.keys(rates) as (keyof typeof rates)[]) rates[key] += (b.metrics[key]?.value ?? 0) * b.n;
  }
  if (n === 0) return { satisfaction: { value: null, n: 0, low: null, high: null }, like: null, regenerate: null, export: null, viewers: 0 };
  const mean = sum / n;
  const se = Math.sqrt(variance) / n;
  return {
    satisfaction: { value: mean, n, low: mean - 1.96 * se, high: mean + 1.96 * se },
    like: rates.like / n, regenerate: rates.regenerate / n, export: rates.export / n, viewers: n,
  };
}

async function trainRewardModel(api: FlywheelApiClient, seed: number, timeoutMs: number): Promise<RoundResult['rewardModel']> {
  const job = await api.train({ kind: 'linear', seed, promote: true });
  const queuedSince = Date.now();
  const done = await poll(`training job ${job.id}`, timeoutMs, 250, async () => {
    const current = await api.job(job.id);
    if (current.status === 'queued' && Date.now() - queuedSince > 30_000) {
      throw new Error(`training job ${job.id} is still queued after 30 s: is the trainer running? (node dist/apps/trainer/src/main.js)`);
    }
    return current.status === 'succeeded' || current.status === 'failed' ? current : undefined;
  });
  const progress = (done.progress ?? {}) as { accuracy?: number; promotion?: string | null };
  if (done.status === 'failed' || !done.modelId) {
    return { jobId: job.id, modelId: null, version: null, status: null, accuracy: null, promotion: null, error: done.error ?? 'failed' };
  }
  const model = await api.model(done.modelId);
  return {
    jobId: job.id, modelId: model.id, version: model.version, status: model.status, accuracy: progress.accuracy ?? model.metrics?.test?.accuracy ?? null,
    promotion: progress.promotion ?? null, error: null,
  };
}

async function compareVersions(api: FlywheelApiClient, model: string, baseline: string, candidate: string, from: string): Promise<DemoResult['compare']> {
  const answer = await api.compare({ baseline, candidate, model, from, to: new Date(Date.now() + 3600_000).toISOString() });
  const m = answer.metrics.find((x) => x.metric === 'satisfaction');
  return {
    baseline, candidate,
    satisfaction: m ? {
      baseline: m.baseline.value, candidate: m.candidate.value, difference: m.difference.value, low: m.difference.low, high: m.difference.high,
      pValue: m.pValue, significant: m.significant,
    } : null,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function fmt(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

