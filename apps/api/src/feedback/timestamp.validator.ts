import { ValidationOptions, registerDecorator } from 'class-validator';
import { timestampProblem } from '@flywheel/contracts';

/** An ISO-8601 instant with a zone, not before 2015 and not more than a day ahead (the contract's window). */
export function IsEventTimestamp(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'isEventTimestamp',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => timestampProblem(value) === null,
        defaultMessage: (args) => `${args?.property} ${timestampProblem(args?.value) ?? 'is invalid'}`,
      },
    });
  };
}
