import { ERROR_CODES, isErrorCode } from './error-codes';
import { FailureClass } from './failure-class';
import { FlywheelError } from './flywheel-error';

/** Node's socket and name-resolution errors: the peer cannot be reached now, and may be later. */
const TRANSIENT_SYSTEM_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH',
  'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN',
]);

/** A PostgreSQL SQLSTATE: five characters whose class (first two) is one PostgreSQL defines (none starts with E). */
const SQLSTATE = /^(?:[0-9][0-9A-Z]|F0|HV|P0|XX)[0-9A-Z]{3}$/;

/** How deep the chain of causes is followed (cause, TypeORM's driverError, AggregateError's errors). */
const MAX_CHAIN = 8;

/**
 * Classifies a failure from structured facts only — an error code of ERROR_CODES, a PostgreSQL SQLSTATE, a Node
 * socket code, kafkajs's `retriable` flag — never from a message. Follows the chain of causes outward in: the first
 * link that says transient or permanent decides; nothing known → `unknown`.
 *
 * PostgreSQL: data exceptions (class 22), integrity violations (23) and program limits (54, e.g. an index row too
 * large) are permanent — the same input fails again; connection exceptions (08), insufficient resources (53),
 * operator shutdowns (57P0x), serialization failures (40001), deadlocks (40P01) and lock timeouts (55P03) are
 * transient. Every other SQLSTATE is unknown.
 */
export function classifyFailure(error: unknown): FailureClass {
  for (const link of causeChain(error)) {
    const failure = classifyLink(link);
    if (failure !== 'unknown') return failure;
  }
  return 'unknown';
}

export function sqlStateFailure(sqlState: string): FailureClass {
  const group = sqlState.slice(0, 2);
  if (group === '22' || group === '23' || group === '54') return 'permanent';
  if (group === '08' || group === '53') return 'transient';
  if (sqlState === '40001' || sqlState === '40P01' || sqlState === '55P03' || sqlState.startsWith('57P0')) return 'transient';
  return 'unknown';
}

/** The SQLSTATE of a PostgreSQL error anywhere in the chain of causes, if there is one. */
export function sqlStateOf(error: unknown): string | undefined {
  for (const link of causeChain(error)) {
    const code = codeOf(link);
    if (code !== undefined && SQLSTATE.test(code) && !TRANSIENT_SYSTEM_CODES.has(code)) return code;
  }
  return undefined;
}

/** A one-line reason for a dead letter or a failed job: the message, with the SQLSTATE or code that classified it. */
export function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const sqlState = sqlStateOf(error);
  if (sqlState) return `${message} (SQLSTATE ${sqlState})`;
  const code = codeOf(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

function classifyLink(link: unknown): FailureClass {
  if (link instanceof FlywheelError) return ERROR_CODES[link.code as keyof typeof ERROR_CODES].failure;
  const code = codeOf(link);
  if (code !== undefined) {
    if (TRANSIENT_SYSTEM_CODES.has(code)) return 'transient';
    if (SQLSTATE.test(code)) return sqlStateFailure(code);
    // A FlywheelError from another copy of this module (a worker thread's bundle) still carries its code.
    if (link instanceof Error && isErrorCode(code)) return ERROR_CODES[code].failure;
  }
  // kafkajs marks the errors worth retrying (broker unavailable, leader moved, request timed out).
  if ((link as { retriable?: unknown }).retriable === true) return 'transient';
  return 'unknown';
}

function codeOf(link: unknown): string | undefined {
  const code = (link as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The error and its causes (cause, TypeORM's driverError, AggregateError's errors), outermost first, at most MAX_CHAIN deep. */
export function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && chain.length < MAX_CHAIN) {
    const link = queue.shift();
    if (link === null || typeof link !== 'object' || chain.includes(link)) continue;
    chain.push(link);
    const { cause, driverError, errors } = link as { cause?: unknown; driverError?: unknown; errors?: unknown };
    queue.push(driverError, cause);
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return chain;
}
