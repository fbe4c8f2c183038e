export * from './reward-model.types';
export { RewardModelError, type RewardModelErrorCode } from './reward-model.errors';
export { Prng } from './prng';
export { pairLoss, pairProbabilities } from './bradley-terry.loss';
export {
  trainRewardModel,
  selectPairs,
  type TrainOptions,
  type ResolvedTrainOptions,
  type TrainResult,
  type EpochReport,
  type StopReason,
} from './bradley-terry.trainer';
export { predict, assertValidModel } from './predict';
export { EXACT_L2_GRID, EXACT_MAX_WORK } from './exact-linear';
export { computeStandardisation, standardiseFeatures, foldStandardisation } from './standardisation';
export { evaluatePairs, randomBaseline, type PairMetrics, type BaselineMetrics } from './pair-evaluation';
export {
  syntheticPreferences,
  type SyntheticPreferences,
  type SyntheticPreferencesOptions,
  type SyntheticTruth,
} from './synthetic-preferences';
export {
  writeOnnx,
  readOnnxMetadata,
  parseRewardModelMetadata,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  ONNX_INPUT,
  ONNX_OUTPUT,
  ONNX_REWARDS,
  type DimensionHead,
  type RewardModelProvenance,
  type RewardModelMetadata,
} from './onnx-writer';
export { RewardScorer, type RewardScorerOptions } from './reward-scorer';
export { groupAdvantages } from './group-advantages';
export { modelCard, withPromotion, type ModelCard, type ModelCardInput, type HeadCardEntry } from './model-card';
export { perGeneratorScores, bestSingleFeature, logisticRegressionBt, type LogisticBtOptions } from './baselines';
export {
  promotionGate,
  pairCorrectness,
  exactMcNemar,
  GATE_DEFAULTS,
  type GateOptions,
  type GateDecision,
  type GateStatistics,
  headGate,
  type HeadGateStatistics,
} from './promotion-gate';
