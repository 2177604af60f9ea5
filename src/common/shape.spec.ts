import {
  isArrayOf,
  isFiniteNumber,
  isIsoInstant,
  isNullable,
  isObjectOf,
  isOneOf,
  isSafeInteger,
  isString,
} from './shape';
import fc from 'fast-check';

/** The definition the guard must agree with: what `Date#toISOString` writes back. */
function writtenBackAlike(value: string): boolean {
  if (value.length !== 24) return false;
  const time = Date.parse(value);
  return !Number.isNaN(time) && new Date(time).toISOString() === value;
}

describe('shape guards', () => {
  const isPoint = isObjectOf<{ x: number; label: string | null }>({
    x: isFiniteNumber,
    label: isNullable(isString),
  });

  it.each([
    ['isString', isString, 'a', 1],
    ['isFiniteNumber', isFiniteNumber, 1.5, Infinity],
    ['isFiniteNumber', isFiniteNumber, 0, NaN],
    ['isSafeInteger', isSafeInteger, 2 ** 53 - 1, 2 ** 53],
    ['isSafeInteger', isSafeInteger, 3, 3.5],
    ['isIsoInstant', isIsoInstant, '2026-12-04T10:00:00.000Z', '2026-12-04T10:00:00Z'],
    ['isIsoInstant', isIsoInstant, '2024-02-29T00:00:00.000Z', '2026-02-30T00:00:00.000Z'],
    ['isIsoInstant', isIsoInstant, '2000-02-29T23:59:59.999Z', '1900-02-29T00:00:00.000Z'],
    ['isIsoInstant', isIsoInstant, '2026-04-30T00:00:00.000Z', '2026-04-31T00:00:00.000Z'],
    ['isIsoInstant', isIsoInstant, '2026-12-31T00:00:00.000Z', '2026-12-04T24:00:00.000Z'],
    ['isIsoInstant', isIsoInstant, '0000-01-01T00:00:00.000Z', '2026-13-01T00:00:00.000Z'],
    ['isIsoInstant', isIsoInstant, '9999-12-31T23:59:59.999Z', '2026-12-04T10:60:00.000Z'],
    ['isIsoInstant', isIsoInstant, '2026-01-31T00:00:00.000Z', '2026-12-04T10:00:00.000Z\n'],
    ['isOneOf', isOneOf(['a', 'b'] as const), 'b', 'c'],
    ['isNullable', isNullable(isString), null, undefined],
    ['isArrayOf', isArrayOf(isString), ['a', 'b'], ['a', 1]],
    ['isArrayOf', isArrayOf(isString), [], { length: 0 }],
    ['isObjectOf', isPoint, { x: 1, label: null }, { x: 1 }],
    ['isObjectOf (extra key)', isPoint, { x: 1, label: 'a' }, { x: 1, label: 'a', y: 2 }],
    ['isObjectOf (array)', isPoint, { x: 0, label: null }, [1, null]],
    [
      'isObjectOf (other prototype)',
      isPoint,
      { x: 0, label: null },
      Object.assign(Object.create({ polluted: true }) as object, { x: 0, label: null }),
    ],
  ])('%s accepts %p and refuses %p', (_name, guard, accepted, refused) => {
    expect(guard(accepted)).toBe(true);
    expect(guard(refused)).toBe(false);
  });

  it('isIsoInstant agrees with writing the parsed date back, for dates and digits changed in them (property)', () => {
    const instant = fc
      .date({
        min: new Date('0000-01-01T00:00:00.000Z'),
        max: new Date('9999-12-31T23:59:59.999Z'),
        noInvalidDate: true,
      })
      .map((date) => date.toISOString());
    fc.assert(
      fc.property(
        instant,
        fc.array(fc.tuple(fc.nat(23), fc.constantFrom(...'0123456789T:-.Z ')), { maxLength: 3 }),
        (written, changes) => {
          const chars = [...written];
          for (const [at, char] of changes) chars[at] = char;
          const value = chars.join('');
          expect(isIsoInstant(value)).toBe(writtenBackAlike(value));
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
