import { duration } from './duration';

describe('duration', () => {
  it.each([
    [-5, '0 ms'],
    [43, '43 ms'],
    [1_000, '1 s'],
    [1_249, '1.2 s'],
    [12_400, '12 s'],
    [300_000, '5 min'],
    [5_400_000, '1.5 h'],
    [259_200_000, '3 d'],
  ])('%i ms is "%s"', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });
});
