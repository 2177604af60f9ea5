import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsString, ValidateBy, ValidationArguments } from 'class-validator';
import { parseInstant } from './instant';
import { TextRule, textProblem } from './text';

/**
 * A string field PostgreSQL stores as given: no NUL or other control characters (free text may
 * keep tabs and line breaks), no broken UTF-16, and a length counted as `char_length` counts it.
 */
export function StorableText(rule: TextRule): PropertyDecorator {
  return applyDecorators(
    IsString(),
    ValidateBy({
      name: 'storableText',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && textProblem(value, rule) === null,
        defaultMessage: ({ property, value }: ValidationArguments) =>
          `${property} ${typeof value === 'string' ? textProblem(value, rule) : 'must be a string'}`,
      },
    }),
  );
}

/** An instant `parseInstant` reads: what `Date` and `timestamptz` both hold, offset required. */
export function IsInstant(): PropertyDecorator {
  return ValidateBy({
    name: 'isInstant',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseInstant(value) !== null,
      defaultMessage: ({ property }: ValidationArguments) =>
        `${property} must be an ISO-8601 instant with an offset, e.g. 2026-11-21T12:30:00Z, in years 1 to 9999`,
    },
  });
}

/**
 * A `seq` in a query string: decimal digits only ("0x10", "1e3", " 7" and "+7" are not numbers a
 * client was ever given), at most 2^53 - 1. Anything else is left as it came, for the validation
 * that follows to refuse with a message naming the field.
 */
export function SeqParam({ fallback }: { fallback?: number } = {}): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) return value;
    const seq = Number(value);
    return Number.isSafeInteger(seq) ? seq : value;
  });
}
