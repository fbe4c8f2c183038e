/** Errors carry a stable code, a message for people, optional details, and keep their cause (STYLE.md §7). */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'BROKER_UNAVAILABLE'
  | 'DATABASE_UNAVAILABLE'
  | 'CONFLICT';

export const STATUS_OF: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  BROKER_UNAVAILABLE: 503,
  DATABASE_UNAVAILABLE: 503,
};

export interface FieldProblem {
  field: string;
  problems: string[];
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
