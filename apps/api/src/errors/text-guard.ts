import { FastifyReply, FastifyRequest } from 'fastify';
import { textProblem } from '@flywheel/contracts';
import { FieldProblem } from '@flywheel/errors';
import { errorBody } from './error-body';

const MAX_REPORTED = 20;
/** Deeper JSON is refused: no request of this api nests beyond 5 levels, and a walk must not grow with the input. */
export const MAX_JSON_DEPTH = 32;

interface Frame {
  value: unknown;
  parent: Frame | null;
  key: string | number;
  depth: number;
}

/** `events[0].videoId` for a frame, from the root's `path`; built only for what is reported. */
function pathOf(frame: Frame, root: string): string {
  const chain: Frame[] = [];
  for (let f: Frame | null = frame; f && f.parent; f = f.parent) chain.push(f);
  let path = root;
  for (let i = chain.length - 1; i >= 0; i--) {
    const key = chain[i].key;
    path = typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
  }
  return path || 'value';
}

/**
 * The strings of a parsed request part that PostgreSQL could not store (U+0000, lone surrogates: see textProblem),
 * named as the validators name fields (`events[0].videoId`, `modelVersion`); at most 20. Such a value would
 * otherwise fail in the database, as a 500 — or, once on Kafka, fail its batch on every retry. Nesting deeper than
 * MAX_JSON_DEPTH is refused too. Iterative, with paths built only for what it reports: 10 KB of `[[[[…` once
 * overflowed the recursive walk (a 500 on every route with a body).
 */
export function unstorableText(value: unknown, path = '', out: FieldProblem[] = []): FieldProblem[] {
  const stack: Frame[] = [{ value, parent: null, key: '', depth: 0 }];
  while (stack.length && out.length < MAX_REPORTED) {
    const frame = stack.pop()!;
    const v = frame.value;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) {
        const field = pathOf(frame, path);
        out.push({ field, problems: [`${field} ${problem}`] });
      }
    } else if (v !== null && typeof v === 'object') {
      if (frame.depth >= MAX_JSON_DEPTH) {
        const field = pathOf(frame, path);
        out.push({ field, problems: [`${field} nests deeper than ${MAX_JSON_DEPTH} levels`] });
        return out;
      }
      const depth = frame.depth + 1;
      if (Array.isArray(v)) {
        // Numbers, booleans and nulls have nothing to check: a feature vector costs no frames (a 1,152 × 64 rollout
        // batch for /v1/rewards is 73,728 of them).
        for (let i = v.length - 1; i >= 0; i--) {
          const item: unknown = v[i];
          if (typeof item === 'string' || (item !== null && typeof item === 'object')) stack.push({ value: item, parent: frame, key: i, depth });
        }
      } else {
        const keys = Object.keys(v);
        for (let i = keys.length - 1; i >= 0; i--) {
          const child: Frame = { value: (v as Record<string, unknown>)[keys[i]], parent: frame, key: keys[i], depth };
          const keyProblem = textProblem(keys[i]);
          if (keyProblem && out.length < MAX_REPORTED) out.push({ field: JSON.stringify(pathOf(child, path)).slice(1, -1), problems: [`property name ${keyProblem}`] });
          stack.push(child);
        }
      }
    }
  }
  return out;
}

/** Fastify preHandler for every route: a path, query or body string PostgreSQL could not store is a 400 naming it. */
export function rejectUnstorableText(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const details = [...unstorableText(request.params), ...unstorableText(request.query), ...unstorableText(request.body)];
  if (details.length === 0) {
    done();
    return;
  }
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  void reply.status(400).send(errorBody('VALIDATION_FAILED', `${details[0].problems[0]}${more}`, details));
}
