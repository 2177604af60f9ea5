import { failuresSince } from './session-pool';

describe('failuresSince', () => {
  const failures = [
    { begunAt: 900, reason: 'ECONNRESET' },
    { begunAt: 999, reason: 'ECONNRESET' },
    { begunAt: 1_000, reason: 'Unexpected server response: 408' },
    { begunAt: 1_500, reason: 'ECONNRESET' },
  ];

  it.each([
    ['before every failure', 0, 4, { ECONNRESET: 3, 'Unexpected server response: 408': 1 }, 0],
    ['between them', 1_000, 2, { ECONNRESET: 1, 'Unexpected server response: 408': 1 }, 2],
    ['after every failure', 2_000, 0, {}, 4],
  ])('counts attempts begun at or after a boundary %s', (_case, since, failed, reasons, old) => {
    expect(failuresSince(failures, since)).toEqual({
      failedUpgrades: failed,
      failureReasons: reasons,
      failedAgainstTheOldServer: old,
    });
  });
});
