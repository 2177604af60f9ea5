/**
 * Type guards for data that arrives from outside the type system (another instance through Redis):
 * each checks the value's shape in full and narrows it, so a value that passes can be used as its
 * type. Objects must have exactly the listed keys: anything else is not what MealPulse wrote.
 */
export type Guard<T> = (value: unknown) => value is T;

export const isString: Guard<string> = (value): value is string => typeof value === 'string';

export const isFiniteNumber: Guard<number> = (value): value is number =>
  typeof value === 'number' && Number.isFinite(value);

export const isSafeInteger: Guard<number> = (value): value is number => Number.isSafeInteger(value);

/** An instant exactly as `Date#toISOString` writes it (a 30th of February does not survive). */
export const isIsoInstant: Guard<string> = (value): value is string => {
  if (typeof value !== 'string' || value.length !== 24) return false;
  const time = Date.parse(value);
  return !Number.isNaN(time) && new Date(time).toISOString() === value;
};

export function isOneOf<T extends string>(values: readonly T[]): Guard<T> {
  return (value): value is T => (values as readonly unknown[]).includes(value);
}

export function isNullable<T>(guard: Guard<T>): Guard<T | null> {
  return (value): value is T | null => value === null || guard(value);
}

export function isArrayOf<T>(guard: Guard<T>): Guard<T[]> {
  return (value): value is T[] => Array.isArray(value) && value.every(guard);
}

export function isObjectOf<T extends object>(fields: { [K in keyof T]-?: Guard<T[K]> }): Guard<T> {
  const keys = Object.keys(fields) as (keyof T & string)[];
  return (value): value is T => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    if (Object.getPrototypeOf(value) !== Object.prototype) return false;
    const record = value as Record<string, unknown>;
    const own = Object.keys(record);
    return (
      own.length === keys.length &&
      keys.every((key) => Object.hasOwn(record, key) && fields[key](record[key]))
    );
  };
}
