import { FeedbackEventMessage, GenerationMessage } from './events';
import { EVENT_MESSAGE_RULES, FieldProblem, GENERATION_MESSAGE_RULES, RecordRules, checkRecord } from './field-rules';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Parses a message and checks it with the same field rules as the api (field-rules.ts): a message the api produced
 * always decodes; one produced by anything else is held to the same contract. Never throws.
 */
function decode<T>(raw: Buffer | string | null, rules: RecordRules, build: (obj: Record<string, unknown>) => T): Decoded<T> {
  if (raw === null || raw.length === 0) return { ok: false, reason: 'empty message' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, reason: 'not a JSON object' };
  const obj = parsed as Record<string, unknown>;
  if (obj.v !== 1) return { ok: false, reason: `unsupported contract version ${String(JSON.stringify(obj.v)).slice(0, 40)}` };
  if (typeof obj.projectId !== 'string' || !UUID.test(obj.projectId)) return { ok: false, reason: 'projectId must be a UUID' };
  const problems: FieldProblem[] = [];
  checkRecord(obj, rules, '', problems, 'ignore');
  if (problems.length) return { ok: false, reason: problems[0].problems[0] };
  return { ok: true, value: build(obj) };
}

/** Null means absent, as it does to the api. */
const opt = <T>(value: unknown): T | undefined => (value === null ? undefined : (value as T | undefined));

/** Decodes one message of `flywheel.events.v1`. Never throws: a bad message is a reason for the dead-letter topic. */
export function decodeFeedbackEvent(raw: Buffer | string | null): Decoded<FeedbackEventMessage> {
  return decode(raw, EVENT_MESSAGE_RULES, (o): FeedbackEventMessage => ({
    v: 1, projectId: o.projectId as string, eventId: o.eventId as string, type: o.type as FeedbackEventMessage['type'],
    videoId: o.videoId as string, userHash: o.userHash as string, occurredAt: o.occurredAt as string,
    receivedAt: o.receivedAt as string, sessionId: opt(o.sessionId), requestId: opt(o.requestId), watchMs: opt(o.watchMs),
    durationMs: opt(o.durationMs), rating: opt(o.rating), dimension: opt(o.dimension),
  }));
}

/** Decodes one message of `flywheel.generations.v1`; `featureDim` is checked later against the project. */
export function decodeGeneration(raw: Buffer | string | null): Decoded<GenerationMessage> {
  return decode(raw, GENERATION_MESSAGE_RULES, (o): GenerationMessage => ({
    v: 1, projectId: o.projectId as string, videoId: o.videoId as string, requestId: o.requestId as string,
    prompt: o.prompt as string, model: o.model as string, modelVersion: o.modelVersion as string,
    category: opt(o.category), segment: opt(o.segment), durationMs: opt(o.durationMs), uri: opt(o.uri),
    fps: opt(o.fps), numFrames: opt(o.numFrames), features: o.features as number[], createdAt: o.createdAt as string, receivedAt: o.receivedAt as string,
  }));
}
