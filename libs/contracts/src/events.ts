/** Feedback event types of contract v1. */
export const EVENT_TYPES_V1 = [
  'impression', 'play', 'progress', 'complete',
  'like', 'unlike', 'favorite', 'unfavorite',
  'share', 'download', 'export', 'comment', 'rate', 'choose',
  'regenerate', 'discard', 'dislike', 'report',
] as const;
export type EventType = (typeof EVENT_TYPES_V1)[number];

export const RATING_DIMENSIONS_EXAMPLES = ['overall', 'visual_quality', 'motion_quality', 'text_alignment'] as const;

export const MAX_EVENTS_PER_BATCH = 1000;
export const MAX_GENERATIONS_PER_BATCH = 1000;
/** Lengths count Unicode code points (PostgreSQL's char_length), not UTF-16 units or bytes. */
export const MAX_ID_LENGTH = 128;
export const MAX_USER_ID_LENGTH = 256;
export const MAX_PROMPT_LENGTH = 10000;
export const MAX_URI_LENGTH = 2048;
/** projects.feature_dim is at most this (a CHECK in the initial migration). */
export const MAX_FEATURE_DIM = 4096;

/** Timestamps outside this window are rejected as invalid (clock bugs, seconds sent as milliseconds, …). */
export const EARLIEST_OCCURRED_AT = Date.UTC(2015, 0, 1);
export const MAX_CLOCK_SKEW_MS = 24 * 3600 * 1000;

/**
 * A feedback event as it travels on `flywheel.events.v1`. The raw user id never appears: `userHash` is the keyed
 * HMAC computed inside the api (invariant 5). Key of the Kafka message: `${projectId}:${videoId}`, so one video's
 * events stay in order on one partition.
 */
export interface FeedbackEventMessage {
  v: 1;
  projectId: string;
  eventId: string;
  type: EventType;
  videoId: string;
  userHash: string;
  occurredAt: string;
  receivedAt: string;
  sessionId?: string;
  requestId?: string;
  watchMs?: number;
  durationMs?: number;
  rating?: number;
  dimension?: string;
}

/** A generated video as it travels on `flywheel.generations.v1` (key `${projectId}:${videoId}`). */
export interface GenerationMessage {
  v: 1;
  projectId: string;
  videoId: string;
  requestId: string;
  prompt: string;
  model: string;
  modelVersion: string;
  category?: string;
  segment?: string;
  durationMs?: number;
  uri?: string;
  /** Frames per second and number of frames of the video file, when the generator declares them. */
  fps?: number;
  numFrames?: number;
  features: number[];
  createdAt: string;
  receivedAt: string;
}

export function messageKey(projectId: string, videoId: string): string {
  return `${projectId}:${videoId}`;
}

/** Lower-cased, whitespace-collapsed prompt: the unit of the "same prompt" preference scope. */
export function normalisePrompt(prompt: string): string {
  return prompt.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * What PostgreSQL text and jsonb cannot store: U+0000, and lone UTF-16 surrogates (they are not Unicode; in the
 * worker's JSON batch documents one breaks the whole document). Such a string would fail its batch's transaction
 * on every retry and stall the partition behind it, so the api refuses it (400) and the worker dead-letters a
 * message that carries one.
 */
export const NUL_PROBLEM = 'must not contain the NUL character (U+0000)';
export const SURROGATE_PROBLEM = 'must be well-formed Unicode (it holds a lone surrogate)';

/** Why PostgreSQL could not store this string, or null. */
export function textProblem(value: string): string | null {
  if (value.includes('\u0000')) return NUL_PROBLEM;
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) return SURROGATE_PROBLEM; // ES2024, native in Node 20
  return null;
}
