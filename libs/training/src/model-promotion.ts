import { FlywheelError } from '@flywheel/errors';
import { EvaluationSetRow, ModelRow, ModelsRepository } from '@flywheel/database';
import {
  GateOptions, GateStatistics, HeadGateStatistics, ModelCard, PairMetrics, RewardScorer, evaluatePairs, headGate, pairCorrectness,
  promotionGate, withPromotion,
} from '@flywheel/reward-model';

export interface PromotionDecision {
  promoted: boolean;
  reason: string;
  model: ModelRow;
  /** Both models on the candidate's frozen evaluation pairs (production absent when there is none). */
  candidate: PairMetrics;
  production: (PairMetrics & { modelId: string }) | null;
  /** The paired test (absent for the first model of a project and for an override). */
  statistics: GateStatistics | null;
  /** The per-dimension veto: one entry per head with frozen pairs when there is a production model. */
  heads: HeadGateStatistics[];
}

export class PromotionError extends FlywheelError<'MODEL_NOT_FOUND' | 'OVERRIDE_NEEDS_REASON' | 'NOT_A_CANDIDATE'> {}

/** Scores a frozen evaluation set with an ONNX model through onnxruntime-node. */
export async function scoreOnnx(onnx: Uint8Array, set: EvaluationSetRow): Promise<{ a: Float32Array; b: Float32Array; metrics: PairMetrics }> {
  const scorer = await RewardScorer.create(onnx);
  try {
    const a = await scorer.score(set.featuresA, set.pairs);
    const b = await scorer.score(set.featuresB, set.pairs);
    return { a, b, metrics: evaluatePairs(a, b, set.outcome, set.weight) };
  } finally {
    await scorer.release();
  }
}

/**
 * Per-pair correctness of each named head of a model on head evaluation sets (`rewards` column of that name); a
 * model without that head gets null.
 */
async function headCorrectness(
  onnx: Uint8Array, sets: ReadonlyArray<EvaluationSetRow & { dimension: string }>,
): Promise<Map<string, Float64Array | null>> {
  const scorer = await RewardScorer.create(onnx);
  try {
    const out = new Map<string, Float64Array | null>();
    const k = scorer.dimensions.length;
    for (const set of sets) {
      const column = scorer.dimensions.indexOf(set.dimension);
      if (column < 0) {
        out.set(set.dimension, null);
        continue;
      }
      const pick = (rewards: Float32Array) => Float32Array.from({ length: set.pairs }, (_, p) => rewards[p * k + column]);
      const a = pick((await scorer.scoreAll(set.featuresA, set.pairs)).rewards);
      const b = pick((await scorer.scoreAll(set.featuresB, set.pairs)).rewards);
      out.set(set.dimension, pairCorrectness(a, b, set.outcome));
    }
    return out;
  } finally {
    await scorer.release();
  }
}

export async function evaluateOnnx(onnx: Uint8Array, set: EvaluationSetRow): Promise<PairMetrics> {
  return (await scoreOnnx(onnx, set)).metrics;
}

/**
 * A candidate becomes production only through the promotion gate (libs/reward-model promotion-gate.ts): both
 * models score the same frozen evaluation pairs (the candidate's test split, stored with its features), and the
 * paired test must find the candidate significantly not worse and better (defaults: ≥ 200 decisive pairs, 95%
 * one-sided, 1-point non-inferiority margin, gain > `improvementMargin` = 0). The first model of a project is
 * promoted when its accuracy is defined. A model without a defined accuracy is never promoted automatically.
 * `override` promotes regardless and must say why. The decision and its statistics go into the registry (metrics
 * and card) either way.
 *
 * Per dimension: when the candidate has dimension heads with frozen pairs and production has heads of the same
 * names, each such head is checked on its own frozen pairs (`headGate`): a head significantly worse than
 * production's (one-sided, Bonferroni over the heads compared) blocks the promotion even when the overall gate
 * passes. Heads with too few pairs, or that production lacks, are reported and do not block.
 */
export async function promoteIfBetter(
  models: ModelsRepository,
  projectId: string,
  modelId: string,
  options: { improvementMargin?: number; gate?: GateOptions; override?: { reason: string } } = {},
): Promise<PromotionDecision> {
  const model = await models.find(projectId, modelId);
  if (!model) throw new PromotionError('MODEL_NOT_FOUND', `no model ${modelId} in this project`);
  if (model.status === 'production') throw new PromotionError('NOT_A_CANDIDATE', `model ${modelId} is already in production`);
  if (options.override && !options.override.reason?.trim()) {
    throw new PromotionError('OVERRIDE_NEEDS_REASON', 'a manual override needs a reason');
  }
  const set = (await models.evaluationSet(projectId, model.evaluationSetId))!;
  const candidateScores = await scoreOnnx((await models.onnx(projectId, modelId))!, set);
  const candidate = candidateScores.metrics;
  const current = await models.production(projectId);
  const productionScores = current ? await scoreOnnx((await models.onnx(projectId, current.id))!, set) : null;
  const production = productionScores ? { modelId: current!.id, ...productionScores.metrics } : null;
  const gateOptions: GateOptions = { ...options.gate, improvementMargin: options.improvementMargin ?? options.gate?.improvementMargin };
  if (gateOptions.improvementMargin === undefined) delete gateOptions.improvementMargin;

  let promote: boolean;
  let reason: string;
  let statistics: GateStatistics | null = null;
  let heads: HeadGateStatistics[] = [];
  if (productionScores) {
    const gate = promotionGate(
      pairCorrectness(candidateScores.a, candidateScores.b, set.outcome),
      pairCorrectness(productionScores.a, productionScores.b, set.outcome),
      gateOptions,
    );
    statistics = gate.statistics;
    promote = gate.promote;
    reason = `${gate.reason} (production v${current!.version})`;
    heads = await checkHeads(models, projectId, model.evaluationSetId, modelId, current!.id, gateOptions);
    const worse = heads.filter((h) => h.worse);
    if (promote && worse.length > 0) {
      promote = false;
      reason = `${reason}; but the ${worse.map((h) => h.name).join(', ')} head${worse.length > 1 ? 's are' : ' is'} significantly worse than production's (${worse.map((h) => h.reason).join('; ')})`;
    }
  } else if (Number.isFinite(candidate.accuracy)) {
    promote = true;
    reason = `first model of the project (accuracy ${candidate.accuracy.toFixed(4)} on ${candidate.decisivePairs} decisive evaluation pairs)`;
  } else {
    promote = false;
    reason = `accuracy is not defined on the ${set.pairs} evaluation pairs (no decisive pair): a model without a defined accuracy is never promoted`;
  }
  const gateReason = reason;
  if (options.override) {
    promote = true;
    reason = `manual override: ${options.override.reason.trim()}`;
  }
  const record = {
    promoted: promote, reason, gateReason, decidedAt: new Date().toISOString(), productionModelId: current?.id ?? null,
    productionVersion: current?.version ?? null, override: Boolean(options.override), ...(statistics ?? {}),
    ...(heads.length > 0 ? { heads } : {}),
  };
  const stored = (await models.card(projectId, modelId))!;
  // Cards this trainer wrote are re-rendered with the decision; anything else (a hand-registered model) keeps its
  // markdown and gets the decision in its JSON.
  const card = (stored.card as ModelCard | null)?.schema === 'flywheel.reward-model-card.v1'
    ? withPromotion(stored.card as ModelCard, record)
    : { json: { ...(stored.card as object), promotion: record }, markdown: stored.markdown };
  await models.recordPromotion(projectId, modelId, record, card.json, card.markdown);
  if (promote) {
    const promoted = await models.promote(projectId, modelId, reason);
    return { promoted: true, reason, model: promoted, candidate, production, statistics, heads };
  }
  await models.setStatusReason(projectId, modelId, reason);
  return { promoted: false, reason, model: { ...model, statusReason: reason }, candidate, production, statistics, heads };
}

/** The per-dimension veto: candidate vs production on each head evaluation set of the candidate. */
async function checkHeads(
  models: ModelsRepository, projectId: string, evaluationSetId: string, candidateId: string, productionId: string, gate: GateOptions,
): Promise<HeadGateStatistics[]> {
  const sets = await models.headEvaluationSets(projectId, evaluationSetId);
  if (sets.length === 0) return [];
  const candidate = await headCorrectness((await models.onnx(projectId, candidateId))!, sets);
  const production = await headCorrectness((await models.onnx(projectId, productionId))!, sets);
  const compared = sets.filter((s) => candidate.get(s.dimension) && production.get(s.dimension)).length;
  return sets.map((s) => {
    const c = candidate.get(s.dimension);
    const p = production.get(s.dimension);
    if (!c || !p) {
      const empty = new Float64Array(0);
      return { ...headGate(s.dimension, empty, empty, { heads: 1 }), gated: false, worse: false, reason: `${s.dimension}: production has no such head: not gated` };
    }
    return headGate(s.dimension, c, p, { heads: compared, confidence: gate.confidence, minPairs: gate.minPairs });
  });
}
