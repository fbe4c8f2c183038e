import { createHash } from 'node:crypto';
import { FlywheelError } from '@flywheel/errors';
import {
  EvidenceFilters, EvidenceRepository, ModelRow, ModelsRepository, PreferenceSetsRepository, VideoEvidenceRow,
} from '@flywheel/database';
import { Pair, PairOptions, VideoEvidence, buildPairs } from '@flywheel/preferences';
import {
  BaselineMetrics, PAIR_SPLIT, PairMetrics, RewardModel, RewardModelError, RewardModelKind, TrainOptions,
  bestSingleFeature, evaluatePairs, logisticRegressionBt, modelCard, perGeneratorScores, predict, randomBaseline,
  selectPairs, trainRewardModel, writeOnnx,
} from '@flywheel/reward-model';
import { CURRENT_POLICY, shrunkMean } from '@flywheel/satisfaction';
import { HeadPairs, HeadReport, liveHeadPairs, trainHeads } from './dimension-heads';
import { perUserPairs, withPerUserTraining } from './per-user-pairs';
import { PromotionDecision, promoteIfBetter } from './model-promotion';

export interface TrainingRequest {
  kind?: RewardModelKind;
  hiddenLayers?: number[];
  ties?: 'none' | 'davidson';
  seed?: number;
  /** A safety cap; runs stop by validation loss (see TrainOptions.maxEpochs). */
  maxEpochs?: number;
  patience?: number;
  /**
   * 'adam' (default) or 'exact': a linear model (and its heads) fitted exactly by Newton's method with the L2 strength
   * chosen on the validation pairs, then refitted on train + validation (see TrainOptions.solver). Linear only.
   */
  solver?: 'adam' | 'exact';
  /**
   * Live data only. 'aggregate' (default): pairs of a request's (or prompt's) videos compared by their mean
   * satisfaction, and per head by their mean rating. 'per-user': training pairs are each user's own comparisons of a
   * request's candidates (see perUserPairs); validation and test pairs stay the aggregate ones.
   */
  pairs?: 'aggregate' | 'per-user';
  /** Live data only: the satisfaction margin a pair needs. */
  minMargin?: number;
  /** Live data only. */
  filters?: EvidenceFilters;
  /** Train on this preference set's pairs and splits instead of live data. */
  preferenceSetId?: string;
  /** Try to promote the new candidate through the promotion gate. Default true. */
  promote?: boolean;
  /** The gain over production (accuracy on the frozen pairs) the candidate must exceed. Default 0. */
  promotionMargin?: number;
  threads?: number;
  /** Set on jobs the trainer's schedule queued. */
  scheduled?: boolean;
}

export interface TrainingOutcome {
  model: ModelRow;
  metrics: PairMetrics;
  baselines: Record<string, BaselineMetrics>;
  pairs: { train: number; validation: number; test: number };
  /** One per declared rating dimension: its pairs, accuracy on its test pairs, or why it stayed untrained. */
  heads: HeadReport[];
  promotion: PromotionDecision | null;
  /** True when this run reproduced a model already in the registry (same data, seed and options → same bytes). */
  reproduced: boolean;
  seconds: number;
}

export type TrainingErrorCode = 'NOT_ENOUGH_PAIRS' | 'UNSUPPORTED_OPTION' | 'PREFERENCE_SET_NOT_FOUND' | 'PREFERENCE_SET_NOT_READY' | 'ALL_TIES';

/** A run that cannot or must not happen; `details.field` names the request field at fault, when one is. */
export class TrainingError extends FlywheelError<TrainingErrorCode> {
  constructor(code: TrainingErrorCode, message: string, field?: string) {
    super(code, message, field ? { details: { field } } : {});
  }
}

const SPLIT_CODE = { train: PAIR_SPLIT.train, validation: PAIR_SPLIT.validation, test: PAIR_SPLIT.test } as const;
const MIN_PAIRS = { train: 20, test: 5 };
/**
 * Live pairs are split by prompt hash with this fixed seed, never the training seed: every run on live data keeps a
 * prompt in the same split, so a candidate's frozen test pairs were never training pairs of the production model
 * it is compared with.
 */
export const LIVE_SPLIT_SEED = 1;
/** Newton's method on a D × D Hessian: the logistic-regression baseline is fitted up to this many features. */
const MAX_LOGISTIC_BASELINE_DIM = 256;
const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'kind', 'hiddenLayers', 'ties', 'seed', 'maxEpochs', 'patience', 'minMargin', 'filters', 'preferenceSetId', 'promote',
  'promotionMargin', 'threads', 'scheduled', 'solver', 'pairs',
]);

/**
 * Refuses what a run could not honour (an unknown field, live-data options next to a preference set): a training
 * request is never silently narrowed.
 */
export function checkTrainingRequest(request: TrainingRequest): void {
  for (const key of Object.keys(request)) {
    if (!KNOWN_FIELDS.has(key)) throw new TrainingError('UNSUPPORTED_OPTION', `${key} is not a training option this trainer knows`, key);
  }
  if (request.solver === 'exact' && (request.kind ?? 'mlp') !== 'linear') {
    throw new TrainingError('UNSUPPORTED_OPTION', 'solver exact fits linear models only: send kind linear with it', 'solver');
  }
  if (request.solver === 'exact' && request.ties === 'davidson') {
    throw new TrainingError('UNSUPPORTED_OPTION', 'solver exact has no tie model: leave ties out or use solver adam', 'solver');
  }
  if (request.pairs !== undefined && request.pairs !== 'aggregate' && request.pairs !== 'per-user') {
    throw new TrainingError('UNSUPPORTED_OPTION', `pairs must be aggregate or per-user, got ${String(request.pairs)}`, 'pairs');
  }
  if (request.pairs === 'per-user' && request.ties === 'davidson') {
    throw new TrainingError('UNSUPPORTED_OPTION', 'per-user pairs are strict comparisons: they have no ties for a tie model (leave ties out)', 'pairs');
  }
  if (request.preferenceSetId !== undefined) {
    for (const key of ['minMargin', 'filters', 'pairs'] as const) {
      if (request[key] !== undefined) {
        throw new TrainingError('UNSUPPORTED_OPTION', `${key} applies to live data: a preference set fixed its pairs when it was built (leave ${key} out, or build a set with it)`, key);
      }
    }
  }
}

/** Per-video evidence with satisfaction shrunk toward the project's mean (DESIGN.md: one viewer ≠ a hundred). */
export function toVideoEvidence(rows: VideoEvidenceRow[]): VideoEvidence[] {
  const total = rows.reduce((acc, r) => ({ sum: acc.sum + r.satSum, n: acc.n + r.n }), { sum: 0, n: 0 });
  const prior = total.n ? total.sum / total.n : CURRENT_POLICY.shrinkage.priorMean;
  return rows.map((r) => ({
    videoId: r.videoId, requestId: r.requestId, promptNorm: r.promptNorm, prompt: r.prompt, modelVersion: r.modelVersion,
    uri: r.uri, n: r.n, satMean: r.n ? r.satSum / r.n : 0,
    satShrunk: shrunkMean(r.satSum, r.n, prior, CURRENT_POLICY.shrinkage.priorStrength),
    dimensionScores: dimensionScores(r),
    positive: r.positive, negative: r.negative, fps: r.fps, numFrames: r.numFrames,
  }));
}

/** Mean rating per rated dimension (every dimension the project declared, not only the default three). */
function dimensionScores(r: VideoEvidenceRow): Record<string, number> {
  const scores: Record<string, number> = {};
  for (const [name, { mean }] of Object.entries(r.dimensions)) scores[name] = mean;
  if (r.overallRating !== null) scores.overall = r.overallRating;
  return scores;
}

/** Items (videos with features and generator) and pairs over them, with a split code per pair. */
interface TrainingSet {
  source: { preferenceSetId: string | null; createdAt: Date };
  nItems: number;
  features: Float32Array;
  /** Generator (model@version) index per item. */
  generatorOf: Int32Array;
  a: Int32Array;
  b: Int32Array;
  outcome: Float32Array;
  weight: Float32Array;
  split: Uint8Array;
  /** Tie pairs of a preference set left out because the run has no tie model. */
  droppedTies: number;
  /** Pairs labelled for one rating dimension (strict: the two videos' mean ratings on it differ). */
  headPairs: (dimension: string) => HeadPairs;
}

/** What a run needs of its project: the feature dimension and the declared rating dimensions (one head each). */
export interface ProjectShape {
  featureDim: number;
  ratingDimensions?: readonly string[];
}

/**
 * One training run: pairs (live: request and prompt scopes, split by prompt hash; or a stored preference set's
 * pairs and splits) → Bradley–Terry model → evaluation on the test split against baselines → ONNX + model card in
 * the registry as a candidate → the promotion gate on the frozen test pairs.
 *
 * Reproducible: the model id is derived from the project, the data source and the ONNX content, so the same set +
 * seed + options gives the same bytes and finds its own registry entry (returned with `reproduced: true`) instead of
 * registering a copy.
 */
export async function trainProject(
  deps: { evidence: EvidenceRepository; models: ModelsRepository; sets: PreferenceSetsRepository },
  projectId: string,
  project: number | ProjectShape,
  request: TrainingRequest,
  onProgress: (progress: Record<string, unknown>) => void = () => undefined,
): Promise<TrainingOutcome> {
  const started = Date.now();
  const { featureDim, ratingDimensions = [] } = typeof project === 'number' ? { featureDim: project } : project;
  checkTrainingRequest(request);
  const seed = request.seed ?? 1;
  const kind = request.kind ?? 'mlp';
  onProgress({ stage: 'loading pairs' });
  const data = request.preferenceSetId
    ? await preferenceSetData(deps, projectId, featureDim, request.preferenceSetId, request.ties === 'davidson')
    : await liveData(deps.evidence, projectId, featureDim, request);
  const counts = { train: 0, validation: 0, test: 0 };
  const codeNames = ['train', 'validation', 'test'] as const;
  for (const code of data.split) counts[codeNames[code]]++;
  onProgress({ stage: 'training', pairs: counts });

  const pairs = { a: data.a, b: data.b, outcome: data.outcome, weight: data.weight };
  const trainingData = { features: data.features, nItems: data.nItems, dim: featureDim, pairs, split: data.split };
  const trainOptions = (k: RewardModelKind): TrainOptions => ({
    kind: k, hiddenLayers: k === 'mlp' ? request.hiddenLayers ?? [64] : [], seed, maxEpochs: request.maxEpochs,
    patience: request.patience, ties: request.ties === 'davidson' ? { model: 'davidson' } : 'none', threads: request.threads ?? 1,
    solver: k === 'linear' ? request.solver : undefined,
    onEpoch: (e) => onProgress({ stage: 'training', model: k, epoch: e.epoch, trainLoss: e.trainLoss, validationLoss: e.validationLoss }),
  });
  const train = (k: RewardModelKind) => {
    try {
      return trainRewardModel(trainingData, trainOptions(k));
    } catch (error) {
      if (error instanceof RewardModelError && error.code === 'ALL_TIES') throw new TrainingError('ALL_TIES', error.message);
      throw error;
    }
  };
  const result = train(kind);

  onProgress({ stage: 'evaluating' });
  const test = selectPairs(pairs, data.split, PAIR_SPLIT.test);
  const evaluate = (scores: Float32Array) => {
    const pick = (idx: Int32Array) => Float32Array.from(idx, (i) => scores[i]);
    return evaluatePairs(pick(test.a), pick(test.b), test.outcome, test.weight);
  };
  const metrics = evaluate(predict(result.model, data.features, data.nItems));
  const baselines = measureBaselines(data, featureDim, selectPairs(pairs, data.split, PAIR_SPLIT.train), evaluate);
  if (kind === 'mlp') baselines.linear = { ...evaluate(predict(train('linear').model, data.features, data.nItems)), note: 'the same trainer, linear, same seed' };
  // One head per declared dimension, each trained only on pairs labelled for it (separately, with this run's kind).
  onProgress({ stage: 'training dimension heads', dimensions: ratingDimensions });
  const { heads, reports: headReports, tests: headTests } = trainHeads(ratingDimensions, data.headPairs, { features: data.features, nItems: data.nItems, dim: featureDim }, { ...trainOptions(kind), onEpoch: undefined });

  const provenance = {
    policyVersion: CURRENT_POLICY.id, preferenceSetId: data.source.preferenceSetId ?? 'live', createdAt: data.source.createdAt,
  };
  const onnxMetrics = { ...metrics, splitSeed: data.source.preferenceSetId ? null : LIVE_SPLIT_SEED };
  const onnxFor = (registry?: { modelId: string; version: number; projectId: string }) =>
    writeOnnx(result.model, { ...provenance, metrics: onnxMetrics, seed, registry }, heads);
  const modelId = contentId(projectId, provenance.preferenceSetId, onnxFor());
  const existing = await deps.models.find(projectId, modelId);
  if (existing) {
    const stored = await deps.models.onnx(projectId, modelId);
    if (!stored || !Buffer.from(onnxFor({ modelId, version: existing.version, projectId })).equals(stored)) {
      throw new Error(`model ${modelId} is registered with other bytes than this run wrote: training is not reproducible here`);
    }
    return { model: existing, metrics, baselines, pairs: counts, heads: headReports, promotion: null, reproduced: true, seconds: (Date.now() - started) / 1000 };
  }

  const evaluationSetId = await deps.models.saveEvaluationSet(projectId, {
    featureDim, pairs: test.a.length, outcome: test.outcome, weight: test.weight,
    featuresA: gather(data.features, test.a, featureDim), featuresB: gather(data.features, test.b, featureDim),
  });
  // Each trained head's test pairs, frozen beside the overall set: the gate checks heads on them (model-promotion.ts).
  for (const [dimension, pairsOfHead] of headTests) {
    const n = pairsOfHead.a.length;
    await deps.models.saveEvaluationSet(projectId, {
      featureDim, pairs: n, outcome: new Float32Array(n).fill(1), weight: new Float32Array(n).fill(1),
      featuresA: gather(data.features, pairsOfHead.a, featureDim), featuresB: gather(data.features, pairsOfHead.b, featureDim),
    }, { of: evaluationSetId, dimension });
  }
  const cardTraining = { ...result, threads: result.threads };
  const model = await deps.models.insert(
    {
      id: modelId, projectId, kind, featureDim, policyId: CURRENT_POLICY.id, preferenceSetId: data.source.preferenceSetId,
      metrics: {
        test: metrics, baselines, pairs: counts, droppedTies: data.droppedTies, splitSeed: onnxMetrics.splitSeed,
        epochsRun: result.history.length, bestEpoch: result.bestEpoch, stoppedBy: result.stoppedBy,
        heads: headReports,
      },
      evaluationSetId,
    },
    (version) => {
      const card = modelCard({
        model: result.model, training: cardTraining, metrics, baselines,
        provenance: { ...provenance, modelVersion: String(version) }, heads: headReports,
      });
      return { onnx: onnxFor({ modelId, version, projectId }), card: card.json, cardMarkdown: card.markdown };
    },
  );
  const promotion = request.promote === false ? null
    : await promoteIfBetter(deps.models, projectId, model.id, { improvementMargin: request.promotionMargin });
  return {
    model: promotion?.model ?? model, metrics, baselines, pairs: counts, heads: headReports, promotion, reproduced: false,
    seconds: (Date.now() - started) / 1000,
  };
}

/** A UUID (version 5 layout) from a SHA-256 of what determines the model. */
function contentId(projectId: string, source: string, onnx: Uint8Array): string {
  const hash = createHash('sha256').update(`${projectId}\n${source}\n`).update(onnx).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function liveData(evidence: EvidenceRepository, projectId: string, featureDim: number, request: TrainingRequest): Promise<TrainingSet> {
  const rows = await evidence.videos(projectId, request.filters ?? {});
  const videos = toVideoEvidence(rows);
  const pairOptions: Partial<PairOptions> = {
    scopes: ['request', 'prompt'], minMargin: request.minMargin ?? 0.05, includeTies: request.ties === 'davidson', seed: LIVE_SPLIT_SEED,
  };
  const built: Pair[] = [...buildPairs({ videos }, pairOptions)];
  const index = new Map(rows.map((r, i) => [r.videoId, i]));
  const aggregate = {
    a: Int32Array.from(built, (p) => index.get(p.chosenId)!),
    b: Int32Array.from(built, (p) => index.get(p.rejectedId)!),
    outcome: Float32Array.from(built, (p) => (p.tie ? 0.5 : 1)),
    weight: Float32Array.from(built, (p) => p.weight),
    split: Uint8Array.from(built, (p) => SPLIT_CODE[p.split]),
  };
  const dimensionsOf = rows.map((r) => r.dimensions);
  const aggregateHead = (name: string) => liveHeadPairs(videos, dimensionsOf, name, index, LIVE_SPLIT_SEED);
  let pairs = aggregate;
  let headPairs = aggregateHead;
  if (request.pairs === 'per-user') {
    const ratings = await evidence.userRatings(projectId, request.filters ?? {});
    pairs = withPerUserTraining(aggregate, perUserPairs(videos, ratings, (r) => r.satisfaction, index, LIVE_SPLIT_SEED, pairOptions.minMargin));
    headPairs = (name) => withPerUserTraining(aggregateHead(name), perUserPairs(videos, ratings, (r) => r.dimensions[name], index, LIVE_SPLIT_SEED));
  }
  const counts = { train: 0, test: 0 };
  for (const code of pairs.split) {
    if (code === PAIR_SPLIT.train) counts.train++;
    if (code === PAIR_SPLIT.test) counts.test++;
  }
  if (counts.train < MIN_PAIRS.train || counts.test < MIN_PAIRS.test) {
    const withFeedback = rows.filter((r) => r.n > 0).length;
    const prompts = new Set(rows.filter((r) => r.n > 0).map((r) => r.promptNorm)).size;
    throw new TrainingError('NOT_ENOUGH_PAIRS',
      `not enough preference pairs to train (${counts.train} train, ${counts.test} test; need ${MIN_PAIRS.train} and ${MIN_PAIRS.test}). ${withFeedback} of ${rows.length} videos have a satisfaction score, over ${prompts} prompts. A pair needs two videos of the same request or prompt whose satisfaction differs by at least minMargin (${pairOptions.minMargin}), and pairs are split by prompt (80/10/10): collect feedback on more candidates of the same requests, and on more prompts`);
  }
  const features = new Float32Array(rows.length * featureDim);
  rows.forEach((r, i) => features.set(r.features, i * featureDim));
  return {
    source: { preferenceSetId: null, createdAt: new Date() },
    nItems: rows.length, features, generatorOf: generatorIndex(rows), droppedTies: 0,
    headPairs, ...pairs,
  };
}

/** A stored preference set's pairs and splits, with its videos' current features (generations do not change). */
async function preferenceSetData(
  deps: { evidence: EvidenceRepository; sets: PreferenceSetsRepository },
  projectId: string,
  featureDim: number,
  setId: string,
  keepTies: boolean,
): Promise<TrainingSet> {
  const set = await deps.sets.find(projectId, setId);
  if (!set) throw new TrainingError('PREFERENCE_SET_NOT_FOUND', `no preference set ${setId} in this project`, 'preferenceSetId');
  if (set.status !== 'ready') {
    throw new TrainingError('PREFERENCE_SET_NOT_READY', `preference set ${setId} is ${set.status}, not ready: train on it once it is built`, 'preferenceSetId');
  }
  const a: number[] = [];
  const b: number[] = [];
  const outcome: number[] = [];
  const weight: number[] = [];
  const split: number[] = [];
  const index = new Map<string, number>();
  const item = (id: string) => index.get(id) ?? (index.set(id, index.size), index.size - 1);
  let droppedTies = 0;
  const head = new Map<string, { a: number[]; b: number[]; split: number[] }>();
  for await (const page of deps.sets.pairPages(setId)) {
    for (const pair of page) {
      // A pair is labelled for a dimension when both videos were rated on it and their mean ratings differ.
      for (const [name, difference] of Object.entries(pair.dimensions ?? {})) {
        if (!(difference !== 0 && Number.isFinite(difference))) continue;
        const h = head.get(name) ?? { a: [], b: [], split: [] };
        const [winner, loser] = difference > 0 ? [pair.chosenId, pair.rejectedId] : [pair.rejectedId, pair.chosenId];
        h.a.push(item(winner));
        h.b.push(item(loser));
        h.split.push(SPLIT_CODE[pair.split]);
        head.set(name, h);
      }
      if (pair.tie && !keepTies) {
        droppedTies++;
        continue;
      }
      a.push(item(pair.chosenId));
      b.push(item(pair.rejectedId));
      outcome.push(pair.tie ? 0.5 : 1);
      weight.push(pair.weight);
      split.push(SPLIT_CODE[pair.split]);
    }
  }
  const counts = { train: 0, test: 0 };
  for (const code of split) {
    if (code === PAIR_SPLIT.train) counts.train++;
    if (code === PAIR_SPLIT.test) counts.test++;
  }
  if (counts.train < MIN_PAIRS.train || counts.test < MIN_PAIRS.test) {
    throw new TrainingError('NOT_ENOUGH_PAIRS',
      `preference set ${setId} has too few pairs to train on (${counts.train} train, ${counts.test} test; need ${MIN_PAIRS.train} and ${MIN_PAIRS.test}${droppedTies ? `; ${droppedTies} tie pairs are only used with ties: davidson` : ''})`,
      'preferenceSetId');
  }
  const ids = [...index.keys()];
  const generations = new Map((await deps.evidence.generationsOf(projectId, ids)).map((g) => [g.videoId, g]));
  const missing = ids.filter((id) => !generations.has(id));
  if (missing.length) throw new Error(`preference set ${setId} names ${missing.length} videos without a generation (e.g. ${missing[0]})`);
  const rows = ids.map((id) => generations.get(id)!);
  const features = new Float32Array(ids.length * featureDim);
  rows.forEach((r, i) => features.set(r.features, i * featureDim));
  return {
    source: { preferenceSetId: setId, createdAt: new Date(set.createdAt) },
    nItems: ids.length, features, generatorOf: generatorIndex(rows), droppedTies,
    headPairs: (name) => {
      const h = head.get(name);
      return { a: Int32Array.from(h?.a ?? []), b: Int32Array.from(h?.b ?? []), split: Uint8Array.from(h?.split ?? []) };
    },
    a: Int32Array.from(a), b: Int32Array.from(b), outcome: Float32Array.from(outcome), weight: Float32Array.from(weight),
    split: Uint8Array.from(split),
  };
}

function generatorIndex(rows: { model: string; modelVersion: string }[]): Int32Array {
  const names = [...new Set(rows.map((r) => `${r.model}@${r.modelVersion}`))].sort();
  const index = new Map(names.map((n, i) => [n, i]));
  return Int32Array.from(rows, (r) => index.get(`${r.model}@${r.modelVersion}`)!);
}

/**
 * Baselines fitted on the training pairs and scored on the same test pairs as the model (see baselines.ts):
 * which generator made the video, the best single feature, and logistic-regression Bradley–Terry on all features.
 */
function measureBaselines(
  data: TrainingSet,
  dim: number,
  train: ReturnType<typeof selectPairs>,
  evaluate: (scores: Float32Array) => PairMetrics,
): Record<string, BaselineMetrics & { note?: string }> {
  const baselines: Record<string, BaselineMetrics & { note?: string }> = { random: randomBaseline() };
  const generators = new Set(data.generatorOf).size;
  baselines.perGenerator = {
    ...evaluate(perGeneratorScores(data.generatorOf, train)),
    note: `win share, in training pairs, of the generator that made the video (${generators} generator versions)`,
  };
  const single = bestSingleFeature(data.features, data.nItems, dim, train);
  baselines.bestSingleFeature = {
    ...evaluate(single.scores),
    note: `feature ${single.feature}${single.sign < 0 ? ' (lower is better)' : ''}, chosen on the training pairs`,
  };
  if (dim <= MAX_LOGISTIC_BASELINE_DIM) {
    const fitted: RewardModel = logisticRegressionBt(data.features, data.nItems, dim, train).model;
    baselines.logisticRegression = {
      ...evaluate(predict(fitted, data.features, data.nItems)),
      note: 'logistic regression on standardised feature differences, no intercept, L2 with C = 1, fitted to convergence',
    };
  }
  return baselines;
}

function gather(features: Float32Array, idx: Int32Array, dim: number): Float32Array {
  const out = new Float32Array(idx.length * dim);
  idx.forEach((row, i) => out.set(features.subarray(row * dim, (row + 1) * dim), i * dim));
  return out;
}

