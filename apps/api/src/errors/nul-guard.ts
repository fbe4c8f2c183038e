import { FastifyReply, FastifyRequest } from 'fastify';
import { NUL_PROBLEM } from '@flywheel/contracts';
import { FieldProblem } from './domain-error';

const MAX_REPORTED = 20;

/**
 * Paths of the strings holding U+0000 in a parsed request part, named as the validators name fields
 * (`events[0].videoId`, `modelVersion`); at most 20. PostgreSQL text and jsonb cannot store U+0000, so such a value
 * would otherwise fail in the database, as a 500 — or, once on Kafka, fail its batch on every retry.
 */
export function nulFields(value: unknown, path = '', out: string[] = []): string[] {
  if (out.length >= MAX_REPORTED) return out;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) out.push(path || 'value');
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length && out.length < MAX_REPORTED; i++) nulFields(value[i], `${path}[${i}]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key.includes('\u0000')) out.push(path ? `${path}.${key.replace(/\u0000/g, '\\u0000')}` : key.replace(/\u0000/g, '\\u0000'));
      nulFields(v, path ? `${path}.${key}` : key, out);
      if (out.length >= MAX_REPORTED) break;
    }
  }
  return out;
}

/** Fastify preHandler: a request with U+0000 in its path, query or body is a 400 naming each field, for every route. */
export function rejectNul(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const fields = [...nulFields(request.params), ...nulFields(request.query), ...nulFields(request.body)];
  if (fields.length === 0) {
    done();
    return;
  }
  const details: FieldProblem[] = fields.map((field) => ({ field, problems: [`${field} ${NUL_PROBLEM}`] }));
  void reply.status(400).send({ error: { code: 'VALIDATION_FAILED', message: `${fields[0]} ${NUL_PROBLEM}`, details } });
}
