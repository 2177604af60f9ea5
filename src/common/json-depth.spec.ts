import fc from 'fast-check';
import { jsonNestsDeeperThan } from './json-depth';

/** The reading the function must agree with: one character at a time. */
function oracle(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '[' || char === '{') {
      if (++depth > max) return true;
    } else if (char === ']' || char === '}') depth--;
  }
  return false;
}

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
    ['an unterminated string', '{"a": "[[[[', 1, false],
    ['an escaped quote after escaped backslashes', '{"t": "\\\\\\"[[["}', 1, false],
    ['brackets after a string with an escaped quote', '{"t": "\\"", "u": [[1]]}', 2, true],
    ['a multi-byte character before the brackets', '{"t": "é", "u": [[1]]}', 2, true],
  ])('%s', (_case, text, max, deeper) => {
    expect(jsonNestsDeeperThan(text, max)).toBe(deeper);
    expect(jsonNestsDeeperThan(Buffer.from(text), max)).toBe(deeper);
  });

  it('agrees with a character-at-a-time reading, as text and as UTF-8 bytes (property)', () => {
    const piece = fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', 'é', '😀', ',', ' ');
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 60 }),
        fc.integer({ min: 0, max: 6 }),
        (parts, max) => {
          const text = parts.join('');
          expect(jsonNestsDeeperThan(text, max)).toBe(oracle(text, max));
          expect(jsonNestsDeeperThan(Buffer.from(text), max)).toBe(oracle(text, max));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
