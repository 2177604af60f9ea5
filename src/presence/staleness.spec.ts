import { isFresh, isStale, isSweptAsStale, latestSeen } from './staleness';

describe('staleness rules', () => {
  it.each([
    { lastSeenAt: 1_000, now: 1_000, staleAfterMs: 300, fresh: true },
    { lastSeenAt: 1_000, now: 1_299, staleAfterMs: 300, fresh: true },
    { lastSeenAt: 1_000, now: 1_300, staleAfterMs: 300, fresh: false },
    { lastSeenAt: 1_000, now: 91_000, staleAfterMs: 90_000, fresh: false },
    { lastSeenAt: 1_000, now: 90_999, staleAfterMs: 90_000, fresh: true },
    // a clock that stepped back never makes a session stale
    { lastSeenAt: 5_000, now: 4_000, staleAfterMs: 300, fresh: true },
  ])(
    'seen at $lastSeenAt, now $now, stale after $staleAfterMs → fresh: $fresh',
    ({ lastSeenAt, now, staleAfterMs, fresh }) => {
      expect(isFresh(lastSeenAt, now, staleAfterMs)).toBe(fresh);
      expect(isStale(lastSeenAt, now, staleAfterMs)).toBe(!fresh);
    },
  );

  it.each([
    { welcomed: true, lastSeenAt: 1_000, now: 1_300, swept: true },
    { welcomed: true, lastSeenAt: 1_000, now: 1_299, swept: false },
    // waiting for its welcome (its opening being audited): never swept, however long
    { welcomed: false, lastSeenAt: 1_000, now: 1_300, swept: false },
    { welcomed: false, lastSeenAt: 1_000, now: 91_000, swept: false },
  ])(
    'welcomed: $welcomed, seen at $lastSeenAt, now $now, stale after 300 → swept: $swept',
    ({ welcomed, lastSeenAt, now, swept }) => {
      expect(isSweptAsStale({ welcomed, lastSeenAt }, now, 300)).toBe(swept);
    },
  );

  it.each([
    { values: [], expected: null },
    { values: [3], expected: 3 },
    { values: [3, 9, 4], expected: 9 },
  ])('latestSeen($values) = $expected', ({ values, expected }) => {
    expect(latestSeen(values, (value) => value)).toBe(expected);
  });
});
