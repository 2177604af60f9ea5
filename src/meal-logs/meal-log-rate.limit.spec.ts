import { retryAfterSeconds } from './meal-log-rate.limit';

describe('retryAfterSeconds', () => {
  it.each([
    [59_999.2, 60],
    [59_000, 59],
    [58_000.001, 59],
    [1_000, 1],
    [999, 1],
    [0.4, 1],
    [0, 1],
    // The window's oldest log can leave it between the statement's start and its answer.
    [-3, 1],
  ])('%d ms until the window frees → Retry-After %d', (ms, seconds) => {
    expect(retryAfterSeconds(ms)).toBe(seconds);
  });
});
