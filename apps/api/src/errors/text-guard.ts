import { FastifyReply, FastifyRequest } from 'fastify';
import { textProblem } from '@flywheel/contracts';
import { FieldProblem } from '@flywheel/errors';

const MAX_REPORTED = 20;

/**
 * The strings of a parsed request part that PostgreSQL could not store (U+0000, lone surrogates: see textProblem),
 * named as the validators name fields (`events[0].videoId`, `modelVersion`); at most 20. Such a value would
 * otherwise fail in the database, as a 500 — or, once on Kafka, fail its batch on every retry.
 */
export function unstorableText(value: unknown, path = '', out: FieldProblem[] = []): FieldProblem[] {
  if (out.length >= MAX_REPORTED) return out;
  const field = path || 'value';
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem) out.push({ field, problems: [`${field} ${problem}`] });
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length && out.length < MAX_REPORTED; i++) unstorableText(value[i], `${path}[${i}]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      const name = path ? `${path}.${key}` : key;
      const keyProblem = textProblem(key);
      if (keyProblem) out.push({ field: JSON.stringify(name).slice(1, -1), problems: [`property name ${keyProblem}`] });
      unstorableText(v, name, out);
      if (out.length >= MAX_REPORTED) break;
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
  void reply.status(400).send({ error: { code: 'VALIDATION_FAILED', message: details[0].problems[0], details } });
}
