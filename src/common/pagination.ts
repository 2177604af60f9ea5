import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt } from 'class-validator';
import { DomainError } from './domain.error';

/**
 * A `limit` query parameter, clamped into 1..max: a client asking for a million gets `max`.
 * A value that is not a whole number is returned as is, for @IsInt to refuse with a message.
 */
export function clampLimit(
  value: unknown,
  { fallback, max }: { fallback: number; max: number },
): unknown {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  return Number.isInteger(parsed) ? Math.min(Math.max(parsed, 1), max) : value;
}

/** A `limit` query parameter of a paginated route: optional, clamped, documented. */
export function PageLimit(options: { fallback: number; max: number }): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: options.max, default: options.fallback }),
    Transform(({ value }: { value: unknown }) => clampLimit(value, options)),
    IsInt({ message: 'limit must be a whole number' }),
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A keyset position: a timestamp in PostgreSQL's exact text form, and a uuid to break ties. */
export interface KeysetCursor {
  at: string;
  id: string;
}

/** Opaque to clients; `nextCursor` values are these, base64url-encoded. */
export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(`${cursor.at}|${cursor.id}`).toString('base64url');
}

export function decodeCursor(value: string): KeysetCursor {
  const [at, id, extra] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  if (extra !== undefined || !id || !UUID.test(id) || Number.isNaN(Date.parse(at))) {
    throw new DomainError('invalid_cursor', 'cursor is not a value returned as nextCursor');
  }
  return { at, id };
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
