import { FlywheelError } from '@flywheel/errors';

export type RewardModelErrorCode =
  | 'INVALID_TRAINING_DATA'
  | 'ALL_TIES'
  | 'INVALID_OPTIONS'
  | 'INVALID_EVALUATION_DATA'
  | 'FEATURE_DIM_MISMATCH'
  | 'INVALID_MODEL'
  | 'INVALID_ONNX'
  | 'SCORER_RELEASED'
  | 'TRAINING_WORKER_FAILED';

/** Errors of the reward-model library; their HTTP statuses are in ERROR_CODES (libs/errors). */
export class RewardModelError extends FlywheelError<RewardModelErrorCode> {}
