import { parseDuration, percentile } from './stats';

describe('percentile', () => {
  it.each([
    { values: [], p: 50, expected: Number.NaN },
    { values: [7], p: 99, expected: 7 },
    { values: [1, 2, 3, 4], p: 50, expected: 2 },
    { values: [4, 3, 2, 1], p: 100, expected: 4 },
    { values: Array.from({ length: 100 }, (_, i) => i + 1), p: 95, expected: 95 },
    { values: Array.from({ length: 100 }, (_, i) => i + 1), p: 99, expected: 99 },
  ])('p$p of $values.length values = $expected', ({ values, p, expected }) => {
    expect(percentile(values, p)).toBe(expected);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    ['250', 250],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'soon', '-5s', '3d'])('refuses "%s"', (text) =>
    expect(() => parseDuration(text)).toThrow(/not a duration/),
  );
});
