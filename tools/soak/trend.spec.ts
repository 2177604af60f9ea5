import { growthOver, secondHalf } from './trend';

const series = (values: number[]) => values.map((value, i) => ({ at: i * 1_000, value }));

describe('growthOver', () => {
  it.each([
    { values: [100, 100, 100, 100], growth: 0 },
    { values: [100, 110, 120, 130], growth: 30 },
    { values: [130, 120, 110, 100], growth: -30 },
    { values: [100, 140, 100, 140, 100], growth: 0 }, // sawtooth GC: no trend
    { values: [42], growth: 0 },
  ])('$values grows by $growth', ({ values, growth }) => {
    expect(growthOver(series(values))).toBeCloseTo(growth);
  });
});

describe('secondHalf', () => {
  it('keeps the samples from the middle of the time span on', () => {
    expect(secondHalf(series([1, 2, 3, 4, 5])).map((s) => s.value)).toEqual([3, 4, 5]);
  });
});
