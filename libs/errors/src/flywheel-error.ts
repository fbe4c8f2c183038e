import { ERROR_CODES, ErrorCode } from './error-codes';

/** A problem with one field of a request: `events[3].rating` and what is wrong with it. */
export interface FieldProblem {
  field: string;
  problems: string[];
}

export interface FlywheelErrorOptions {
  /** Structured facts for the caller (shown as `details` in an HTTP error body). */
  details?: unknown;
  cause?: unknown;
}

/**
 * The one error shape of Flywheel (STYLE.md §7): a stable code from ERROR_CODES, a message for people, optional
 * details, and the cause kept. Libraries subclass it only to narrow the codes they throw.
 */
export class FlywheelError<C extends ErrorCode = ErrorCode> extends Error {
  readonly details: unknown;

  constructor(readonly code: C, message: string, options: FlywheelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}
