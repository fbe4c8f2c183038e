import type { FailureClass } from './failure-class';

/**
 * Every error code of Flywheel, with its HTTP status and how a retrying caller (the ingest-worker, the trainer)
 * treats it. This table is the one place that maps codes to statuses: the api's exception filter reads it, and a
 * library error carries only its code.
 */
export const ERROR_CODES = {
  // Requests
  VALIDATION_FAILED: { status: 400, failure: 'permanent' },
  BAD_REQUEST: { status: 400, failure: 'permanent' },
  UNAUTHENTICATED: { status: 401, failure: 'permanent' },
  FORBIDDEN: { status: 403, failure: 'permanent' },
  NOT_FOUND: { status: 404, failure: 'permanent' },
  CONFLICT: { status: 409, failure: 'permanent' },
  PROJECT_DELETED: { status: 410, failure: 'permanent' },
  PAYLOAD_TOO_LARGE: { status: 413, failure: 'permanent' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, failure: 'permanent' },
  // Requests the HTTP parser refuses before any route sees them
  REQUEST_TIMEOUT: { status: 408, failure: 'transient' },
  HEADERS_TOO_LARGE: { status: 431, failure: 'permanent' },
  // Over a key's token bucket: nothing was accepted; Retry-After says when to come back.
  RATE_LIMITED: { status: 429, failure: 'transient' },
  // Dependencies
  BROKER_UNAVAILABLE: { status: 503, failure: 'transient' },
  DATABASE_UNAVAILABLE: { status: 503, failure: 'transient' },
  INTERNAL: { status: 500, failure: 'unknown' },
  // Contracts: a Kafka message that does not decode can never be processed.
  DECODE_FAILED: { status: 400, failure: 'permanent' },
  // Configuration: the process stops and names the variable.
  CONFIG_INVALID: { status: 500, failure: 'permanent' },
  // Reward models (libs/reward-model)
  INVALID_OPTIONS: { status: 400, failure: 'permanent' },
  FEATURE_DIM_MISMATCH: { status: 400, failure: 'permanent' },
  INVALID_TRAINING_DATA: { status: 422, failure: 'permanent' },
  INVALID_EVALUATION_DATA: { status: 422, failure: 'permanent' },
  INVALID_MODEL: { status: 422, failure: 'permanent' },
  INVALID_ONNX: { status: 422, failure: 'permanent' },
  SCORER_RELEASED: { status: 503, failure: 'transient' },
  TRAINING_WORKER_FAILED: { status: 500, failure: 'unknown' },
  // Preference data (libs/preferences)
  INVALID_ROW: { status: 422, failure: 'permanent' },
  UNKNOWN_FORMAT: { status: 400, failure: 'permanent' },
  // Training, promotion and set building (libs/pipeline)
  NOT_ENOUGH_PAIRS: { status: 422, failure: 'permanent' },
  ALL_TIES: { status: 422, failure: 'permanent' },
  UNSUPPORTED_OPTION: { status: 400, failure: 'permanent' },
  PREFERENCE_SET_NOT_FOUND: { status: 404, failure: 'permanent' },
  PREFERENCE_SET_NOT_READY: { status: 409, failure: 'permanent' },
  MODEL_NOT_FOUND: { status: 404, failure: 'permanent' },
  NOT_A_CANDIDATE: { status: 409, failure: 'permanent' },
  OVERRIDE_NEEDS_REASON: { status: 400, failure: 'permanent' },
  CLAIM_LOST: { status: 409, failure: 'permanent' },
  // Retention: raw events removed by the partition maintenance, so a rebuild from them would lose signals.
  RAW_EVENTS_EXPIRED: { status: 409, failure: 'permanent' },
  // The CLI's own failures (exit codes, not HTTP)
  CLI_FAILED: { status: 500, failure: 'unknown' },
} as const satisfies Record<string, { status: number; failure: FailureClass }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}
