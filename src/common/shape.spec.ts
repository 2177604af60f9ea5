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
});
