import { DomainError } from './domain.error';
import { decodeCursor, decodeSeqCursor, encodeCursor, encodeSeqCursor } from './pagination';

const ID = '4b0d8a4e-8f7e-4f0a-9c55-2a7a3c1f6b11';
const raw = (text: string) => Buffer.from(text).toString('base64url');

describe('cursor codec', () => {
  it.each([
    ['microseconds, UTC', '2026-12-04 10:00:00.123456+00'],
    ['whole seconds', '2026-12-04 10:00:00+00'],
    ['an offset with minutes', '2026-12-04 10:00:00.5+05:30'],
    ['year 1', '0001-01-01 00:00:00+00'],
  ])('reads back a keyset cursor it made: %s', (_case, at) => {
    expect(decodeCursor(encodeCursor({ at, id: ID }))).toEqual({ at, id: ID });
  });

  it.each([1, 42, Number.MAX_SAFE_INTEGER])('reads back seq cursor %d', (seq) => {
    expect(decodeSeqCursor(encodeSeqCursor(seq))).toBe(seq);
  });

  const valid = encodeCursor({ at: '2026-12-04 10:00:00+00', id: ID });
  it.each([
    ['padding', `${valid}=`],
    ['stray characters', `*${valid}`],
    ['standard base64', Buffer.from(`2026-12-04 10:00:00+00|${ID}`).toString('base64')],
    ['an upper-case uuid', raw(`2026-12-04 10:00:00+00|${ID.toUpperCase()}`)],
    ['no uuid', raw('2026-12-04 10:00:00+00|')],
    ['a third part', raw(`2026-12-04 10:00:00+00|${ID}|x`)],
    ['30 February', raw(`2026-02-30 10:00:00+00|${ID}`)],
    ['a BC year', raw(`0001-01-01 00:00:00+00 BC|${ID}`)],
    ['a five-digit year', raw(`12026-01-01 00:00:00+00|${ID}`)],
    ['an ISO timestamp', raw(`2026-12-04T10:00:00Z|${ID}`)],
    ['words V8 reads as a date', raw(`1 January 2026|${ID}`)],
    ['nanoseconds', raw(`2026-12-04 10:00:00.1234567+00|${ID}`)],
    ['a seq cursor', encodeSeqCursor(7)],
    ['empty', ''],
    ['201 characters', 'A'.repeat(201)],
  ])('refuses a keyset cursor with %s', (_case, value) => {
    expect(() => decodeCursor(value)).toThrow(DomainError);
  });

  it.each([
    ['a bare number', '7'],
    ['zero', raw('seq:0')],
    ['a leading zero', raw('seq:07')],
    ['past 2^53', raw('seq:9007199254740993')],
    ['an exponent', raw('seq:1e300')],
    ['hex', raw('seq:0x10')],
    ['a negative', raw('seq:-1')],
    ['a keyset cursor', valid],
  ])('refuses a seq cursor with %s', (_case, value) => {
    expect(() => decodeSeqCursor(value)).toThrow(DomainError);
  });
});
