import { readCreateMealLog } from './create-meal-log.reader';

describe('readCreateMealLog', () => {
  it.each([
    ['text alone, trimmed', { text: '  1 apple \n' }, { text: '1 apple' }],
    [
      'every field',
      { text: 'toast', mealType: 'breakfast', loggedAt: '2026-11-21T12:30:00Z' },
      { text: 'toast', mealType: 'breakfast', loggedAt: '2026-11-21T12:30:00Z' },
    ],
    ['null optional fields', { text: 'toast', mealType: null, loggedAt: null }, { text: 'toast' }],
    ['1000 characters', { text: '🍎'.repeat(1000) }, { text: '🍎'.repeat(1000) }],
    ['a line break inside', { text: 'eggs\ntoast' }, { text: 'eggs\ntoast' }],
  ])('accepts %s', (_case, body, value) => {
    expect(readCreateMealLog(body)).toEqual({ ok: true, value });
  });

  it.each([
    ['no text', {}, ['text must be a string']],
    ['a number as text', { text: 42 }, ['text must be a string']],
    ['text empty after trim', { text: '   ' }, ['text must be 1 to 1000 characters, got 0']],
    ['text too long', { text: 'a'.repeat(1001) }, ['text must be 1 to 1000 characters, got 1001']],
    [
      'a NUL in the text',
      { text: 'a\u0000b' },
      ['text holds a control character (only tab and line breaks are allowed)'],
    ],
    [
      'a lone surrogate',
      { text: 'a\ud800' },
      ['text holds a broken character (a lone UTF-16 surrogate)'],
    ],
    [
      'an unknown mealType',
      { text: 'apple', mealType: 'brunch' },
      ['mealType must be one of the following values: breakfast, lunch, dinner, snack'],
    ],
    [
      'a mealType that is no string',
      { text: 'apple', mealType: ['lunch'] },
      ['mealType must be one of the following values: breakfast, lunch, dinner, snack'],
    ],
    [
      'loggedAt without an offset',
      { text: 'apple', loggedAt: '2026-11-21T12:30:00' },
      [expect.stringMatching(/^loggedAt must be an ISO-8601 instant/)],
    ],
    [
      'loggedAt as a number',
      { text: 'apple', loggedAt: 1764000000000 },
      [expect.stringMatching(/^loggedAt must be an ISO-8601 instant/)],
    ],
    [
      'unknown fields, with a bad text',
      { text: '', userId: 'mallory', calories: 5 },
      [
        'property userId should not exist',
        'property calories should not exist',
        'text must be 1 to 1000 characters, got 0',
      ],
    ],
    ['an array', [{ text: 'apple' }], ['the body must be a JSON object']],
    ['a string', 'apple', ['the body must be a JSON object']],
    ['null', null, ['the body must be a JSON object']],
    ['no body', undefined, ['the body must be a JSON object']],
  ])('refuses %s, naming the field', (_case, body, problems) => {
    expect(readCreateMealLog(body)).toEqual({ ok: false, problems });
  });
});
