import { ifNoneMatchHits } from './conditional-get';

describe('ifNoneMatchHits', () => {
  const etag = 'W/"completed-1"';
  it.each<[string, string | undefined, boolean]>([
    ['no header', undefined, false],
    ['an empty header', '', false],
    ['the same weak tag', 'W/"completed-1"', true],
    ['the same tag, strong', '"completed-1"', true],
    ['another tag', 'W/"processing-0"', false],
    ['a list holding it', '"stale", W/"completed-1"', true],
    ['a list without it', '"stale", "other"', false],
    ['a wildcard', '*', true],
    ['a list of commas only', ' , ,', false],
    ['the tag unquoted', 'completed-1', false],
  ])('%s', (_case, header, hits) => {
    expect(ifNoneMatchHits(header, etag)).toBe(hits);
  });
});
