export type RewardModelErrorCode =
  | 'INVALID_TRAINING_DATA'
  | 'INVALID_OPTIONS'
  | 'INVALID_EVALUATION_DATA'
  | 'FEATURE_DIM_MISMATCH'
  | 'INVALID_MODEL'
  | 'INVALID_ONNX'
  | 'SCORER_RELEASED'
  | 'TRAINING_WORKER_FAILED';

/** Errors of the reward-model library carry a stable code (mapped to HTTP statuses by the app's exception filter). */
export class RewardModelError extends Error {
  override readonly name = 'RewardModelError';

  constructor(
    readonly code: RewardModelErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details;
  }

  readonly details: Record<string, unknown> | undefined;
}
