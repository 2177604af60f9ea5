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

const ISO_INSTANT_SHAPE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * An instant exactly as `Date#toISOString` writes it (a 30th of February does not survive).
 * Checked field by field rather than by writing the parsed date back: every notification between
 * instances carries four of these, and the round trip was a third of the message's check.
 */
export const isIsoInstant: Guard<string> = (value): value is string => {
  if (typeof value !== 'string' || !ISO_INSTANT_SHAPE.test(value)) return false;
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    digitsAt(value, 11, 2) <= 23 &&
    digitsAt(value, 14, 2) <= 59 &&
    digitsAt(value, 17, 2) <= 59
  );
};

/** The number written by the `length` ASCII digits of `text` from `start`. */
function digitsAt(text: string, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) value = value * 10 + text.charCodeAt(i) - 0x30;
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

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
