import { VerifiedTokens } from './verified-tokens';

const user = (userId: string, expiresAt: number) => ({ userId, roles: [], expiresAt });

describe('VerifiedTokens', () => {
  it.each<[string, number, boolean]>([
    ['before expiry', 999, true],
    ['at expiry (jsonwebtoken: expired when now ≥ exp)', 1_000, false],
    ['after expiry', 5_000, false],
  ])('a remembered token %s: found %s', (_case, nowMs, found) => {
    const tokens = new VerifiedTokens(10);
    tokens.remember('t', user('alice', 1_000));
    expect(tokens.get('t', nowMs)?.userId).toBe(found ? 'alice' : undefined);
  });

  it('finds nothing for a token it was not given, however close', () => {
    const tokens = new VerifiedTokens(10);
    tokens.remember('header.payload.signature', user('alice', 1_000));
    expect(tokens.get('header.payload.signaturf', 0)).toBeUndefined();
    expect(tokens.get('header.payload.', 0)).toBeUndefined();
  });

  it('forgets an expired token once asked', () => {
    const tokens = new VerifiedTokens(1);
    tokens.remember('old', user('alice', 1_000));
    expect(tokens.get('old', 2_000)).toBeUndefined();
    tokens.remember('new', user('bob', 3_000));
    expect(tokens.get('new', 2_000)?.userId).toBe('bob');
  });

  it('holds at most its size, dropping the oldest first', () => {
    const tokens = new VerifiedTokens(2);
    tokens.remember('a', user('a', 1_000));
    tokens.remember('b', user('b', 1_000));
    tokens.remember('a', user('a', 1_000)); // already held: nothing dropped
    tokens.remember('c', user('c', 1_000));
    expect(
      [tokens.get('a', 0), tokens.get('b', 0), tokens.get('c', 0)].map((u) => u?.userId),
    ).toEqual([undefined, 'b', 'c']);
  });
});
