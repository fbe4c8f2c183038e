import { FlywheelError } from '@flywheel/errors';
import { EvaluationSetRow, ModelRow, ModelsRepository } from '@flywheel/database';
import { PairMetrics, RewardScorer, evaluatePairs } from '@flywheel/reward-model';

export interface PromotionDecision {
  promoted: boolean;
  reason: string;
  model: ModelRow;
  /** Both models on the candidate's frozen evaluation pairs (production absent when there is none). */
  candidate: PairMetrics;
  production: (PairMetrics & { modelId: string }) | null;
}

export class PromotionError extends FlywheelError<'MODEL_NOT_FOUND' | 'OVERRIDE_NEEDS_REASON' | 'NOT_A_CANDIDATE'> {}

/** Scores a frozen evaluation set with an ONNX model through onnxruntime-node. */
export async function evaluateOnnx(onnx: Uint8Array, set: EvaluationSetRow): Promise<PairMetrics> {
  const scorer = await RewardScorer.create(onnx);
  try {
    const a = await scorer.score(set.featuresA, set.pairs);
    const b = await scorer.score(set.featuresB, set.pairs);
    return evaluatePairs(a, b, set.outcome, set.weight);
  } finally {
    await scorer.release();
  }
}

/**
 * A candidate becomes production only if it beats the current production model on the same frozen evaluation
 * pairs (the candidate's test split, stored with its features) by `margin` in pairwise accuracy; otherwise it stays
 * a candidate and the reason is recorded. `override` promotes regardless and must say why.
 */
export async function promoteIfBetter(
  models: ModelsRepository, projectId: string, modelId: string, options: { margin: number; override?: { reason: string } },
): Promise<PromotionDecision> {
  const model = await models.find(projectId, modelId);
  if (!model) throw new PromotionError('MODEL_NOT_FOUND', `no model ${modelId} in this project`);
  if (model.status === 'production') throw new PromotionError('NOT_A_CANDIDATE', `model ${modelId} is already in production`);
  if (options.override && !options.override.reason?.trim()) {
    throw new PromotionError('OVERRIDE_NEEDS_REASON', 'a manual override needs a reason');
  }
  const set = (await models.evaluationSet(projectId, model.evaluationSetId))!;
  const candidate = await evaluateOnnx((await models.onnx(projectId, modelId))!, set);
  const current = await models.production(projectId);
  const production = current
    ? { modelId: current.id, ...(await evaluateOnnx((await models.onnx(projectId, current.id))!, set)) }
    : null;
  const fmt = (x: number) => x.toFixed(4);
  let promote: boolean;
  let reason: string;
  if (options.override) {
    promote = true;
    reason = `manual override: ${options.override.reason.trim()}`;
  } else if (!production) {
    promote = true;
    reason = `first model of the project (accuracy ${fmt(candidate.accuracy)} on ${set.pairs} evaluation pairs)`;
  } else if (candidate.accuracy >= production.accuracy + options.margin) {
    promote = true;
    reason = `accuracy ${fmt(candidate.accuracy)} beats production v${current!.version} ${fmt(production.accuracy)} by at least ${options.margin} on ${set.pairs} frozen pairs`;
  } else {
    promote = false;
    reason = `accuracy ${fmt(candidate.accuracy)} does not beat production v${current!.version} ${fmt(production.accuracy)} by ${options.margin} on ${set.pairs} frozen pairs`;
  }
  if (promote) {
    const promoted = await models.promote(projectId, modelId, reason);
    return { promoted: true, reason, model: promoted, candidate, production };
  }
  await models.setStatusReason(projectId, modelId, reason);
  return { promoted: false, reason, model: { ...model, statusReason: reason }, candidate, production };
}
