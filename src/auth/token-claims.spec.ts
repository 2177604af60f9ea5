import { userFromClaims } from './token-claims';

describe('userFromClaims', () => {
  const exp = 2_000_000_000;

  it.each([
    ['sub and exp', { sub: 'alice', exp }, { userId: 'alice', roles: [], expiresAt: exp * 1000 }],
    [
      'roles, nbf and iat',
      { sub: 'ops', exp, nbf: 1, iat: 1, roles: ['admin'] },
      { userId: 'ops', roles: ['admin'], expiresAt: exp * 1000 },
    ],
    [
      'a 128-character sub',
      { sub: 'x'.repeat(128), exp },
      { userId: 'x'.repeat(128), roles: [], expiresAt: exp * 1000 },
    ],
    [
      'a sub with an emoji (a surrogate pair)',
      { sub: 'a😀b', exp },
      { userId: 'a😀b', roles: [], expiresAt: exp * 1000 },
    ],
  ])('accepts %s', (_case, payload, user) => {
    expect(userFromClaims(payload)).toEqual(user);
  });

  it.each([
    ['a string payload', 'alice'],
    ['an array payload', [{ sub: 'alice', exp }]],
    ['no sub', { exp }],
    ['a numeric sub', { sub: 42, exp }],
    ['an empty sub', { sub: '', exp }],
    ['a 129-character sub', { sub: 'x'.repeat(129), exp }],
    ['a NUL in sub', { sub: 'ali\u0000ce', exp }],
    ['a newline in sub', { sub: 'alice\nadmin', exp }],
    ['a C1 control in sub', { sub: 'alice\u0085', exp }],
    ['DEL in sub', { sub: 'alice\u007f', exp }],
    ['a lone high surrogate in sub', { sub: 'alice\ud800', exp }],
    ['a lone low surrogate in sub', { sub: '\udc00alice', exp }],
    ['no exp', { sub: 'alice' }],
    ['a string exp', { sub: 'alice', exp: String(exp) }],
    ['a fractional exp', { sub: 'alice', exp: exp + 0.5 }],
    ['an exp past 2^53', { sub: 'alice', exp: 1e300 }],
    ['a string nbf', { sub: 'alice', exp, nbf: '0' }],
    ['a negative nbf', { sub: 'alice', exp, nbf: -1 }],
    ['a string iat', { sub: 'alice', exp, iat: 'now' }],
    ['roles as a string', { sub: 'alice', exp, roles: 'admin' }],
    ['roles holding a number', { sub: 'alice', exp, roles: ['admin', 1] }],
    ['roles as an object', { sub: 'alice', exp, roles: { 0: 'admin' } }],
  ])('refuses %s', (_case, payload) => {
    expect(userFromClaims(payload)).toBeNull();
  });
});
