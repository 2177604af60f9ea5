import { codePointLength, textProblem, USER_ID_RULE } from './text';

describe('codePointLength', () => {
  it.each([
    ['', 0],
    ['apple', 5],
    ['🍎', 1],
    ['🍎🍎', 2],
    ['a\ufe0f', 2],
    ['\ud800', 1],
    ['\ud800\ud800', 2],
    ['é', 1],
    ['e\u0301', 2],
  ])('counts %p as %d, as char_length does', (value, length) => {
    expect(codePointLength(value)).toBe(length);
  });
});

describe('textProblem', () => {
  const meal = { min: 1, max: 10, lineBreaks: true };

  it.each([
    ['plain text', 'apple', meal],
    ['tab and line breaks in free text', 'a\tb\nc\r', meal],
    ['ten astral characters', '🍎'.repeat(10), meal],
    ['a 128-character user id', 'u'.repeat(128), USER_ID_RULE],
    ['128 astral characters as a user id', '🍎'.repeat(128), USER_ID_RULE],
  ])('accepts %s', (_case, value, rule) => {
    expect(textProblem(value, rule)).toBeNull();
  });

  it.each([
    ['NUL', 'app\u0000le', meal, 'control character'],
    ['BEL', 'apple\u0007', meal, 'control character'],
    ['DEL', 'apple\u007f', meal, 'control character'],
    ['a C1 control', 'apple\u0085', meal, 'control character'],
    ['a line break in an identifier', 'alice\n', USER_ID_RULE, 'control character'],
    ['a lone high surrogate', 'apple\ud800', meal, 'lone UTF-16 surrogate'],
    ['a lone low surrogate', '\udc00apple', meal, 'lone UTF-16 surrogate'],
    ['11 characters', 'a'.repeat(11), meal, '1 to 10 characters, got 11'],
    ['10 characters and a variation selector', `${'a'.repeat(10)}\ufe0f`, meal, 'got 11'],
    ['nothing', '', meal, 'got 0'],
    ['129 characters as a user id', 'u'.repeat(129), USER_ID_RULE, 'got 129'],
  ])('refuses %s', (_case, value, rule, problem) => {
    expect(textProblem(value, rule)).toContain(problem);
  });
});
