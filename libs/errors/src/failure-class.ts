/**
 * How a retrying caller treats a failure: `transient` (a dependency is unavailable: retry with backoff, move
 * nothing), `permanent` (this input can never be processed: dead-letter or fail it), `unknown` (retry a bounded
 * number of times, then treat as permanent).
 */
export type FailureClass = 'transient' | 'permanent' | 'unknown';
