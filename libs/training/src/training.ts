import { FlywheelError } from '@flywheel/errors';
import { EvidenceFilters, EvidenceRepository, ModelRow, ModelsRepository, VideoEvidenceRow } from '@flywheel/database';
import { Pair, PairOptions, VideoEvidence, buildPairs } from '@flywheel/preferences';
import {
  BaselineMetrics, PAIR_SPLIT, PairMetrics, RewardModelKind, TrainOptions, TrainResult, evaluatePairs, modelCard,
  predict, randomBaseline, selectPairs, trainRewardModel, writeOnnx,
} from '@flywheel/reward-model';
import { CURRENT_POLICY, shrunkMean } from '@flywheel/satisfaction';
import { PromotionDecision, promoteIfBetter } from './model-promotion';

export interface TrainingRequest {
  kind?: RewardModelKind;
  hiddenLayers?: number[];
  ties?: 'none' | 'davidson';
  seed?: number;
  maxEpochs?: number;
  minMargin?: number;
  filters?: EvidenceFilters;
  /** Try to promote the new candidate (it must beat production on its frozen pairs). Default true. */
  promote?: boolean;
  promotionMargin?: number;
  threads?: number;
}

export interface TrainingOutcome {
  model: ModelRow;
  metrics: PairMetrics;
  baselines: Record<string, BaselineMetrics>;
  pairs: { train: number; validation: number; test: number };
  promotion: PromotionDecision | null;
  seconds: number;
}

export class TrainingError extends FlywheelError<'NOT_ENOUGH_PAIRS'> {}

const SPLIT_CODE = { train: PAIR_SPLIT.train, validation: PAIR_SPLIT.validation, test: PAIR_SPLIT.test } as const;
const MIN_PAIRS = { train: 20, test: 5 };

/** Per-video evidence with satisfaction shrunk toward the project's mean (DESIGN.md: one viewer ≠ a hundred). */
export function toVideoEvidence(rows: VideoEvidenceRow[]): VideoEvidence[] {
  const total = rows.reduce((acc, r) => ({ sum: acc.sum + r.satSum, n: acc.n + r.n }), { sum: 0, n: 0 });
  const prior = total.n ? total.sum / total.n : CURRENT_POLICY.shrinkage.priorMean;
  return rows.map((r) => ({
    videoId: r.videoId, requestId: r.requestId, promptNorm: r.promptNorm, prompt: r.prompt, modelVersion: r.modelVersion,
    uri: r.uri, n: r.n, satMean: r.n ? r.satSum / r.n : 0,
    satShrunk: shrunkMean(r.satSum, r.n, prior, CURRENT_POLICY.shrinkage.priorStrength),
    dimensionScores: dimensionScores(r),
  }));
}

function dimensionScores(r: VideoEvidenceRow): Record<string, number> {
  const scores: Record<string, number> = {};
  if (r.visualQuality !== null) scores.visual_quality = r.visualQuality;
  if (r.motionQuality !== null) scores.motion_quality = r.motionQuality;
  if (r.textAlignment !== null) scores.text_alignment = r.textAlignment;
  if (r.overallRating !== null) scores.overall = r.overallRating;
  return scores;
}

/**
 * One training run: evidence → pairs (request and prompt scopes, split by group hash) → Bradley–Terry model →
 * evaluation on the test split against baselines → ONNX + model card in the registry as a candidate → promotion
 * attempt on the frozen test pairs.
 */
export async function trainProject(
  deps: { evidence: EvidenceRepository; models: ModelsRepository },
  projectId: string,
  featureDim: number,
  request: TrainingRequest,
  onProgress: (progress: Record<string, unknown>) => void = () => undefined,
): Promise<TrainingOutcome> {
  const started = Date.now();
  const seed = request.seed ?? 1;
  const kind = request.kind ?? 'mlp';
  onProgress({ stage: 'loading evidence' });
  const rows = await deps.evidence.videos(projectId, request.filters ?? {});
  const videos = toVideoEvidence(rows);
  const pairOptions: Partial<PairOptions> = {
    scopes: ['request', 'prompt'], minMargin: request.minMargin ?? 0.05, includeTies: request.ties === 'davidson', seed,
  };
  const pairs: Pair[] = [...buildPairs({ videos }, pairOptions)];
  const index = new Map(rows.map((r, i) => [r.videoId, i]));
  const counts = { train: 0, validation: 0, test: 0 };
  for (const p of pairs) counts[p.split]++;
  if (counts.train < MIN_PAIRS.train || counts.test < MIN_PAIRS.test) {
    throw new TrainingError('NOT_ENOUGH_PAIRS',
      `not enough preference pairs to train (${counts.train} train, ${counts.test} test; need ${MIN_PAIRS.train} and ${MIN_PAIRS.test}). Pairs come from candidates of the same request or prompt with a satisfaction margin, and are split by prompt hash (80/10/10), so a project with few distinct prompts can have an empty test split: collect feedback on more requests and prompts`);
  }
  onProgress({ stage: 'training', pairs: counts });

  const features = new Float32Array(rows.length * featureDim);
  rows.forEach((r, i) => features.set(r.features, i * featureDim));
  const all = {
    a: Int32Array.from(pairs, (p) => index.get(p.chosenId)!),
    b: Int32Array.from(pairs, (p) => index.get(p.rejectedId)!),
    outcome: Float32Array.from(pairs, (p) => (p.tie ? 0.5 : 1)),
    weight: Float32Array.from(pairs, (p) => p.weight),
  };
  const split = Uint8Array.from(pairs, (p) => SPLIT_CODE[p.split]);
  const data = { features, nItems: rows.length, dim: featureDim, pairs: all, split };
  const trainOptions = (k: RewardModelKind): TrainOptions => ({
    kind: k, hiddenLayers: k === 'mlp' ? request.hiddenLayers ?? [64] : [], seed, maxEpochs: request.maxEpochs ?? 30,
    ties: request.ties === 'davidson' ? { model: 'davidson' } : 'none', threads: request.threads ?? 1,
    onEpoch: (e) => onProgress({ stage: 'training', model: k, epoch: e.epoch, trainLoss: e.trainLoss, validationLoss: e.validationLoss }),
  });
  const result = trainRewardModel(data, trainOptions(kind));

  onProgress({ stage: 'evaluating' });
  const test = selectPairs(all, split, PAIR_SPLIT.test);
  const evaluate = (scores: Float32Array) => {
    const pick = (idx: Int32Array) => Float32Array.from(idx, (i) => scores[i]);
    return evaluatePairs(pick(test.a), pick(test.b), test.outcome, test.weight);
  };
  const metrics = evaluate(predict(result.model, features, rows.length));
  const baselines: Record<string, BaselineMetrics> = {
    random: randomBaseline(),
    perVideoMeanSatisfaction: evaluate(trainSplitMeans(rows, pairs, videos)),
  };
  if (kind === 'mlp') baselines.linear = evaluate(predict(trainRewardModel(data, trainOptions('linear')).model, features, rows.length));

  const evaluationSetId = await deps.models.saveEvaluationSet(projectId, {
    featureDim, pairs: test.a.length, outcome: test.outcome, weight: test.weight,
    featuresA: gather(features, test.a, featureDim), featuresB: gather(features, test.b, featureDim),
  });
  const createdAt = new Date();
  const provenance = { policyVersion: CURRENT_POLICY.id, preferenceSetId: 'live', createdAt };
  const onnx = writeOnnx(result.model, { ...provenance, metrics: { ...metrics }, seed });
  const card = modelCard({ model: result.model, training: cardTraining(result), provenance, metrics, baselines });
  const model = await deps.models.insert({
    projectId, kind, featureDim, policyId: CURRENT_POLICY.id, preferenceSetId: null, onnx, card: card.json,
    cardMarkdown: card.markdown, metrics: { test: metrics, baselines, pairs: counts }, evaluationSetId,
  });
  const promotion = request.promote === false ? null
    : await promoteIfBetter(deps.models, projectId, model.id, { margin: request.promotionMargin ?? 0.005 });
  return { model: promotion?.model ?? model, metrics, baselines, pairs: counts, promotion, seconds: (Date.now() - started) / 1000 };
}

/**
 * The per-video baseline: a video's mean satisfaction among the videos of training pairs (0 elsewhere). Test pairs
 * come from other requests and prompts, so this shows what observed satisfaction alone says about unseen videos.
 */
function trainSplitMeans(rows: VideoEvidenceRow[], pairs: Pair[], videos: VideoEvidence[]): Float32Array {
  const inTrain = new Set<string>();
  for (const p of pairs) if (p.split === 'train') { inTrain.add(p.chosenId); inTrain.add(p.rejectedId); }
  return Float32Array.from(rows, (r, i) => (inTrain.has(r.videoId) ? videos[i].satMean : 0));
}

function gather(features: Float32Array, idx: Int32Array, dim: number): Float32Array {
  const out = new Float32Array(idx.length * dim);
  idx.forEach((row, i) => out.set(features.subarray(row * dim, (row + 1) * dim), i * dim));
  return out;
}

function cardTraining(result: TrainResult) {
  const { options, history, bestEpoch, stoppedEarly, seconds, counts, threads } = result;
  return { options, history, bestEpoch, stoppedEarly, seconds, counts, threads };
}
