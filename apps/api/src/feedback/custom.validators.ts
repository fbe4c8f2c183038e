import { ValidationOptions, registerDecorator } from 'class-validator';

/**
 * An array of finite numbers of at most `max` entries, checked in one loop: `@IsNumber({}, { each: true })` runs
 * the whole decorator machinery per element, which dominated a 64-candidate score request.
 */
export function IsFiniteNumberArray(max: number, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'isFiniteNumberArray',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => {
          if (!Array.isArray(value) || value.length === 0 || value.length > max) return false;
          for (let i = 0; i < value.length; i++) {
            if (typeof value[i] !== 'number' || !Number.isFinite(value[i])) return false;
          }
          return true;
        },
        defaultMessage: (args) => {
          const value = args?.value;
          if (!Array.isArray(value)) return `${args?.property} must be an array of finite numbers`;
          if (value.length === 0 || value.length > max) return `${args?.property} must hold 1 to ${max} numbers`;
          const bad = value.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
          return `${args?.property}[${bad}] must be a finite number`;
        },
      },
    });
  };
}
