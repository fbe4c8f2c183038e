import { FailureClass, classifyFailure } from '@flywheel/errors';

/** How many times the trainer runs one claimed item (a training job, a set build) before it gives the item up. */
export const MAX_ATTEMPTS = 3;
/** The longest pause between two attempts. */
export const MAX_BACKOFF_MS = 30_000;

export type AttemptsOutcome<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; failure: FailureClass; error: unknown; attempts: number };

export interface AttemptOptions {
  /** Attempts in all (the first included). */
  attempts: number;
  /** The pause after the n-th failed attempt (n from 1). */
  backoffMs: (attempt: number) => number;
  /** True when the process stops: no further attempt starts. */
  stopping: () => boolean;
  onRetry?: (error: unknown, attempt: number, failure: FailureClass) => void;
}

/** Exponential backoff from `baseMs`, doubled after each attempt, at most MAX_BACKOFF_MS. */
export function exponentialBackoff(baseMs: number): (attempt: number) => number {
  return (attempt) => Math.min(MAX_BACKOFF_MS, baseMs * 2 ** (attempt - 1));
}

/**
 * Runs `run` until it succeeds, by the shared failure classes: a permanent failure ends it at once (the same input
 * fails again); a transient or unknown one is tried again after a backoff, `attempts` times in all. The caller
 * decides what an exhausted failure means from its class (transient: give the item back to the queue; unknown or
 * permanent: fail it with the reason).
 */
export async function withAttempts<T>(run: (attempt: number) => Promise<T>, options: AttemptOptions): Promise<AttemptsOutcome<T>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, value: await run(attempt), attempts: attempt };
    } catch (error) {
      const failure = classifyFailure(error);
      if (failure === 'permanent' || attempt >= options.attempts || options.stopping()) return { ok: false, failure, error, attempts: attempt };
      options.onRetry?.(error, attempt, failure);
      await sleep(options.backoffMs(attempt));
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
