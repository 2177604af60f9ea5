import { MAX_RETRY_DELAY_MS, retryDelayMs } from './retry-policy';

describe('retryDelayMs', () => {
  it.each([
    { attempt: 1, base: 1000, random: 0.5, expected: 1000 },
    { attempt: 2, base: 1000, random: 0.5, expected: 2000 },
    { attempt: 3, base: 1000, random: 0.5, expected: 4000 },
    { attempt: 4, base: 1000, random: 0, expected: 6400 },
    { attempt: 4, base: 1000, random: 1, expected: 9600 },
    { attempt: 30, base: 1000, random: 1, expected: MAX_RETRY_DELAY_MS },
    { attempt: 1, base: 0, random: 0.7, expected: 0 },
  ])(
    'attempt $attempt, base $base, random $random → $expected ms',
    ({ attempt, base, random, expected }) => {
      expect(retryDelayMs(attempt, base, () => random)).toBe(expected);
    },
  );
});
