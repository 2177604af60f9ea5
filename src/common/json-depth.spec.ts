import { jsonNestsDeeperThan } from './json-depth';

describe('jsonNestsDeeperThan', () => {
  it.each([
    ['a flat object', '{"text": "apple"}', 1, false],
    ['depth 2 against 1', '{"a": [1]}', 1, true],
    ['depth 2 against 2', '{"a": [1]}', 2, false],
    ['brackets inside a string', '{"text": "[[[[[{{{{"}', 1, false],
    ['an escaped quote inside a string', '{"text": "say \\"[[[\\" twice"}', 1, false],
    ['an escaped backslash before the closing quote', '{"t": "a\\\\"}', 1, false],
    ['8,000 brackets', `${'['.repeat(8000)}${']'.repeat(8000)}`, 32, true],
    ['siblings, not nesting', '[[1],[2],[3],[4]]', 2, false],
    ['not JSON at all', 'apple', 0, false],
  ])('%s', (_case, text, max, deeper) => {
    expect(jsonNestsDeeperThan(text, max)).toBe(deeper);
  });
});
