import type { FeedbackEventInput, FieldProblem, GenerationMessage } from '@flywheel/contracts';

export type { EventType, FeedbackEventInput } from '@flywheel/contracts';

/** An event as the app tracks it: `eventId` (the idempotency key) and `occurredAt` (now) are filled in when absent. */
export type TrackEvent = Omit<FeedbackEventInput, 'eventId' | 'occurredAt'> & { eventId?: string; occurredAt?: string | Date };

/** A generated video as `POST /v1/generations` takes it. */
export type GenerationInput = Omit<GenerationMessage, 'v' | 'projectId' | 'receivedAt' | 'createdAt'> & { createdAt?: string };

/** One queued item: an event (`e`, id = eventId) or a generation (`g`, id = `g:` + videoId). */
export interface QueueItem {
  id: string;
  kind: 'e' | 'g';
  body: FeedbackEventInput | GenerationInput;
}

/**
 * Where the queue lives between a `track()` and the api's 202: it must survive what the app survives (a reload in
 * the browser, a restart in Node). Synchronous, so an event is stored before `track()` returns.
 */
export interface QueueStore {
  load(): QueueItem[];
  add(items: QueueItem[]): void;
  remove(ids: string[]): void;
}

export type FlywheelErrorCode =
  /** The event is invalid: thrown by `track()`, or answered 400 by the api (the event is dropped, never retried). */
  | 'INVALID'
  /** The queue holds `maxQueueSize` items: thrown by `track()`; nothing already queued is dropped. */
  | 'QUEUE_FULL'
  /** The key was refused (401, 403) or the project deleted (410): sending stops, the queue is kept. */
  | 'REJECTED'
  /** A transient failure (network, 429, 5xx): reported for visibility; the batch is retried with the same eventIds. */
  | 'RETRYING';

export class FlywheelError extends Error {
  constructor(
    readonly code: FlywheelErrorCode,
    message: string,
    readonly details: { status?: number; problems?: FieldProblem[]; items?: QueueItem[]; retryInMs?: number } = {},
  ) {
    super(message);
    this.name = 'FlywheelError';
  }
}
