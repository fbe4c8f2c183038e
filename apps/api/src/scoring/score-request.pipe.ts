import { Injectable, PipeTransform } from '@nestjs/common';
import { Check, MAX_FEATURE_DIM, MAX_ID_LENGTH, MAX_PROMPT_LENGTH, RecordRules, checkRecord, float32Array, text } from '@flywheel/contracts';
import { FieldProblem } from '@flywheel/errors';
import { validationFailed } from '../errors/validation';
import { MAX_REWARD_CANDIDATES, MAX_SCORE_CANDIDATES, RewardsRequest, ScoreCandidate, ScoreRequest } from './score.dto';

/**
 * Validates POST /v1/score and POST /v1/rewards in one pass each, with the contracts' field rules (a candidate's
 * `features` as a generation's: finite, float32-representable). class-transformer copied every feature of every
 * candidate (4,096 numbers for 64 × 64), which was most of a score request's 2 ms; this keeps it near the HTTP
 * floor. Whether a candidate has exactly one of videoId and features, and the features' length, are checked by
 * ScoringService, which knows the project's dimension. `featuresBase64` (the same features as base64 float32s, which
 * parse several times faster than a JSON array) arrives decoded into `features` too.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuid: Check = (v) => (typeof v === 'string' && UUID.test(v) ? null : 'must be a UUID');
const boolean: Check = (v) => (typeof v === 'boolean' ? null : 'must be a boolean');
const groupId: Check = (v) => {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? null : 'must be a string of 1 to 128 characters or an integer';
  return text(1, MAX_ID_LENGTH)(v);
};
const anything: Check = () => null;

const BASE64_PROBLEM = `must be base64 of 1 to ${MAX_FEATURE_DIM} little-endian float32 values`;
const MAX_BASE64_LENGTH = Math.ceil((MAX_FEATURE_DIM * 4) / 3) + 3;

/**
 * The float32s of `featuresBase64`, or why there are none. Node's decoder skips characters outside the alphabet
 * (and reads the URL-safe one too), so a string is base64 exactly when it decodes to the bytes its length promises.
 * Copied to an aligned array (a small Buffer is a slice of a shared pool at any offset); onnxruntime reads the
 * machine's float32s, and every platform Node and onnxruntime ship for is little-endian.
 */
function decodeFloat32(v: unknown): Float32Array | string | [string, string] {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_BASE64_LENGTH) return BASE64_PROBLEM;
  const bytes = Buffer.from(v, 'base64');
  const padding = v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0;
  if (v.length % 4 !== 0 || bytes.length !== (v.length / 4) * 3 - padding) return BASE64_PROBLEM;
  if (bytes.length % 4 !== 0) return `must decode to a whole number of float32 values (4 bytes each), got ${bytes.length} bytes`;
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) return [`[${i}]`, 'must be a finite number'];
  return out;
}

const SCORE_CANDIDATE: RecordRules = {
  videoId: { check: text(1, MAX_ID_LENGTH) },
  features: { check: float32Array(1, MAX_FEATURE_DIM) },
};
const REWARD_CANDIDATE: RecordRules = {
  prompt: { required: true, check: text(0, MAX_PROMPT_LENGTH) },
  group: { required: true, check: groupId },
  ...SCORE_CANDIDATE,
};

/** Problems of `{ candidates: [...], ...options }`: the body's own fields, then every candidate's, named by path. */
function candidatesProblems(body: unknown, max: number, options: RecordRules, candidate: RecordRules): FieldProblem[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return [{ field: 'body', problems: ['body must be a JSON object with a candidates array'] }];
  }
  const problems: FieldProblem[] = [];
  checkRecord(body as Record<string, unknown>, { candidates: { required: true, check: anything }, ...options }, '', problems, 'refuse');
  const candidates = (body as { candidates?: unknown }).candidates;
  if (candidates == null) return problems;
  if (!Array.isArray(candidates) || candidates.length < 1 || candidates.length > max) {
    problems.push({ field: 'candidates', problems: [`candidates must be an array of 1 to ${max} candidates`] });
    return problems;
  }
  for (let i = 0; i < candidates.length; i++) {
    const c: unknown = candidates[i];
    const path = `candidates[${i}]`;
    if (typeof c !== 'object' || c === null || Array.isArray(c)) problems.push({ field: path, problems: [`${path} must be an object`] });
    else {
      const { featuresBase64, ...rest } = c as Record<string, unknown>;
      checkRecord(rest, candidate, path, problems, 'refuse');
      if (featuresBase64 == null) continue;
      // Decoded here, once, into `features`: scoring sees one representation.
      const decoded = decodeFloat32(featuresBase64);
      const field = `${path}.featuresBase64`;
      if (typeof decoded === 'string') problems.push({ field, problems: [`${field} ${decoded}`] });
      else if (Array.isArray(decoded)) problems.push({ field: field + decoded[0], problems: [`${field}${decoded[0]} ${decoded[1]}`] });
      else if (rest.features != null) problems.push({ field: path, problems: [`${path} needs one of features or featuresBase64, not both`] });
      else (c as ScoreCandidate).features = decoded; // featuresBase64 stays, so a wrong length is named as sent
    }
  }
  return problems;
}

@Injectable()
export class ScoreRequestPipe implements PipeTransform<unknown, ScoreRequest> {
  transform(body: unknown): ScoreRequest {
    const problems = candidatesProblems(body, MAX_SCORE_CANDIDATES, { modelId: { check: uuid } }, SCORE_CANDIDATE);
    if (problems.length) throw validationFailed(problems);
    return body as ScoreRequest;
  }
}

@Injectable()
export class RewardsRequestPipe implements PipeTransform<unknown, RewardsRequest> {
  transform(body: unknown): RewardsRequest {
    const options = { modelId: { check: uuid }, advantages: { check: boolean } };
    const problems = candidatesProblems(body, MAX_REWARD_CANDIDATES, options, REWARD_CANDIDATE);
    if (problems.length) throw validationFailed(problems);
    return body as RewardsRequest;
  }
}
