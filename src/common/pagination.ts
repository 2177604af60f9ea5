import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt } from 'class-validator';
import { DomainError } from './domain.error';
import { parseInstant } from './instant';

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
    ApiPropertyOptional({
      type: 'integer',
      minimum: 1,
      maximum: options.max,
      default: options.fallback,
      description: `Page size; larger values are taken as ${options.max}`,
    }),
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

/**
 * `timestamptz::text` as PostgreSQL writes it: four-digit years only (no BC, no 5-digit years),
 * microseconds at most, an hour offset with optional minutes.
 */
const PG_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?[+-]\d{2}(?::\d{2})?$/;
const LOWER_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64URL = /^[A-Za-z0-9_-]{1,200}$/;

const invalidCursor = () =>
  new DomainError('invalid_cursor', 'cursor is not a value returned as nextCursor');

/**
 * The one codec of every `nextCursor`: opaque to clients (base64url), and it refuses whatever it
 * did not make. A value is accepted only if it decodes to exactly the form `encode*` writes and
 * encodes back to itself, so padding, stray characters, a hand-built timestamp PostgreSQL or
 * `Date` would choke on, or a number past 2^53 is a 400, never a query.
 */
function decodePayload(value: string, form: RegExp): RegExpExecArray {
  if (!BASE64URL.test(value)) throw invalidCursor();
  const text = Buffer.from(value, 'base64url').toString('utf8');
  const match = form.exec(text);
  if (!match || Buffer.from(text).toString('base64url') !== value) throw invalidCursor();
  return match;
}

/** 30 February passes the pattern (and `Date.parse`) but not PostgreSQL. */
function isRealInstant(pgText: string): boolean {
  const iso = pgText.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00');
  return parseInstant(iso) !== null;
}

export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(`${cursor.at}|${cursor.id}`).toString('base64url');
}

export function decodeCursor(value: string): KeysetCursor {
  const [, at, id] = decodePayload(value, /^([^|]*)\|([^|]*)$/);
  if (!PG_TIMESTAMPTZ.test(at) || !LOWER_UUID.test(id) || !isRealInstant(at)) {
    throw invalidCursor();
  }
  return { at, id };
}

/** A position in a user's notifications, newest first: the last `seq` of the page. */
export function encodeSeqCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

export function decodeSeqCursor(value: string): number {
  const [, digits] = decodePayload(value, /^seq:([1-9]\d{0,15})$/);
  const seq = Number(digits);
  if (!Number.isSafeInteger(seq)) throw invalidCursor();
  return seq;
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
