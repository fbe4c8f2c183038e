import { GenerationMessage, MAX_GENERATIONS_PER_BATCH } from './events';
import { FieldProblem, GENERATION_INPUT_RULES, parseBatch } from './field-rules';

/** One generated video of `POST /v1/generations`: the message without what the api adds (`createdAt` optional). */
export type GenerationInput = Omit<GenerationMessage, 'v' | 'projectId' | 'createdAt' | 'receivedAt'> & { createdAt?: string };

export type ParsedGenerationBatch = { ok: true; generations: GenerationInput[] } | { ok: false; problems: FieldProblem[] };

/**
 * Validates a `POST /v1/generations` body for a project of `featureDim` features, with the rules the worker's
 * decoder applies (field-rules.ts), every problem named by path. Never throws.
 */
export function parseGenerationBatch(body: unknown, featureDim: number): ParsedGenerationBatch {
  const parsed = parseBatch<GenerationInput>(body, 'generations', MAX_GENERATIONS_PER_BATCH, GENERATION_INPUT_RULES);
  if (!parsed.ok) return parsed;
  const problems: FieldProblem[] = [];
  parsed.items.forEach((g, i) => {
    if (g.features.length !== featureDim) {
      const field = `generations[${i}].features`;
      problems.push({ field, problems: [`${field} must have ${featureDim} values (the project's feature dimension), got ${g.features.length}`] });
    }
  });
  return problems.length ? { ok: false, problems } : { ok: true, generations: parsed.items };
}

/** The Kafka message of an accepted generation: what the worker's decoder checks with the same rules. */
export function toGenerationMessage(projectId: string, g: GenerationInput, receivedAt: string): GenerationMessage {
  return {
    v: 1, projectId, videoId: g.videoId, requestId: g.requestId, prompt: g.prompt, model: g.model,
    modelVersion: g.modelVersion, category: g.category, segment: g.segment, durationMs: g.durationMs, uri: g.uri,
    fps: g.fps, numFrames: g.numFrames, features: g.features, createdAt: g.createdAt ?? receivedAt, receivedAt,
  };
}
