import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { FlywheelError, FieldProblem } from '@flywheel/errors';

/** Flattens class-validator's tree into `events[3].rating`-style paths. */
export function fieldProblems(errors: ValidationError[], parent = ''): FieldProblem[] {
  const result: FieldProblem[] = [];
  for (const error of errors) {
    const path = /^\d+$/.test(error.property) ? `${parent}[${error.property}]` : parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints) {
      result.push({ field: path, problems: Object.values(error.constraints).map((p) => p.replace(error.property, path)) });
    }
    if (error.children?.length) result.push(...fieldProblems(error.children, path));
  }
  return result;
}

export function validationFailed(problems: FieldProblem[]): FlywheelError {
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new FlywheelError('VALIDATION_FAILED', first ? `${first.problems[0]}${more}` : 'invalid request', { details: problems });
}

const NOT_DTOS: ReadonlySet<unknown> = new Set([String, Boolean, Number, Array, Object]);

/**
 * The global pipe, except that a body DTO needs a JSON object: Nest's pipe turns a `null` body into `{}`, so a DTO
 * of optional fields took `null` (or `[]`, `"x"`, `42`) as "all defaults" and answered 202. No body at all still
 * means the defaults.
 */
class BodyValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && !NOT_DTOS.has(metadata.metatype) && value !== undefined
      && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw validationFailed([{ field: 'body', problems: [`body must be a JSON object, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`] }]);
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new BodyValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => validationFailed(fieldProblems(errors)),
  });
}
