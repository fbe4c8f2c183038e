import { Injectable, PipeTransform } from '@nestjs/common';
import { MAX_ID_LENGTH } from '@flywheel/contracts';
import { FieldProblem } from '@flywheel/errors';
import { validationFailed } from '../errors/validation';
import { MAX_SCORE_CANDIDATES, ScoreRequest } from './score.dto';

/**
 * Validates POST /v1/score in one pass. class-transformer copied every feature of every candidate (4,096 numbers
 * for 64 × 64), which was most of a score request's 2 ms; this keeps it near the HTTP floor.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class ScoreRequestPipe implements PipeTransform<unknown, ScoreRequest> {
  transform(body: unknown): ScoreRequest {
    const problems: FieldProblem[] = [];
    const fail = (field: string, problem: string) => problems.push({ field, problems: [`${field} ${problem}`] });
    const candidates = (body as { candidates?: unknown } | null)?.candidates;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) fail('body', 'must be a JSON object with a candidates array');
    else {
      for (const key of Object.keys(body)) if (key !== 'candidates' && key !== 'modelId') fail(`property ${key}`, 'should not exist');
      const modelId = (body as { modelId?: unknown }).modelId;
      if (modelId !== undefined && (typeof modelId !== 'string' || !UUID.test(modelId))) fail('modelId', 'must be a UUID');
      if (!Array.isArray(candidates) || candidates.length < 1 || candidates.length > MAX_SCORE_CANDIDATES) {
        fail('candidates', `must be an array of 1 to ${MAX_SCORE_CANDIDATES} candidates`);
      } else {
        candidates.forEach((c: unknown, i) => {
          const path = `candidates[${i}]`;
          if (typeof c !== 'object' || c === null || Array.isArray(c)) return fail(path, 'must be an object');
          const { videoId, features, ...rest } = c as Record<string, unknown>;
          for (const key of Object.keys(rest)) fail(`property ${path}.${key}`, 'should not exist');
          if (videoId !== undefined && (typeof videoId !== 'string' || videoId.length < 1 || videoId.length > MAX_ID_LENGTH)) {
            fail(`${path}.videoId`, `must be a string of 1 to ${MAX_ID_LENGTH} characters`);
          }
          if (features !== undefined) {
            if (!Array.isArray(features)) fail(`${path}.features`, 'must be an array of finite numbers');
            else {
              const bad = features.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
              if (bad >= 0) fail(`${path}.features[${bad}]`, 'must be a finite number');
            }
          }
        });
      }
    }
    if (problems.length) throw validationFailed(problems);
    return body as ScoreRequest;
  }
}
