import { redactedUrl } from './redacted-url';

describe('redactedUrl', () => {
  const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';

  it.each([
    ['a path alone', '/api/v1/meal-logs', '/api/v1/meal-logs'],
    ['an empty query', '/ws?', '/ws'],
    ['access_token', `/ws?access_token=${token}`, '/ws?access_token=[Redacted]'],
    ['a percent-encoded name', `/ws?access%5Ftoken=${token}`, '/ws?[Redacted]'],
    ['capitals', `/ws?ACCESS_TOKEN=${token}`, '/ws?ACCESS_TOKEN=[Redacted]'],
    [
      'a repeated parameter',
      `/ws?access_token=a&access_token=${token}`,
      '/ws?access_token=[Redacted]&access_token=[Redacted]',
    ],
    ['an array-style name', `/ws?access_token[]=${token}`, '/ws?access_token[]=[Redacted]'],
    [
      'a ; separator',
      `/ws?deviceId=x;access_token=${token}`,
      '/ws?deviceId=[Redacted]&access_token=[Redacted]',
    ],
    ['a name without a value', `/ws?${token}`, '/ws?[Redacted]'],
    ['a value with an = in it', `/ws?access_token=${token}==`, '/ws?access_token=[Redacted]'],
    [
      'other parameters',
      '/api/v1/meal-logs?limit=5&cursor=abc',
      '/api/v1/meal-logs?limit=[Redacted]&cursor=[Redacted]',
    ],
    ['a token in a fragment-like tail', `/ws?x=1#access_token=${token}`, '/ws?x=[Redacted]'],
  ])('%s', (_case, url, logged) => {
    expect(redactedUrl(url)).toBe(logged);
    expect(redactedUrl(url)).not.toContain(token);
  });
});
