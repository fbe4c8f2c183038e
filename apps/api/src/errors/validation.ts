import { ValidationError, ValidationPipe } from '@nestjs/common';
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

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => validationFailed(fieldProblems(errors)),
  });
}
