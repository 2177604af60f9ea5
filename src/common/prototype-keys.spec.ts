import { parseJsonRefusingPrototypeKeys, PrototypeKeyError } from './prototype-keys';

describe('parseJsonRefusingPrototypeKeys', () => {
  it.each([
    ['{"type":"ping"}', { type: 'ping' }],
    [
      '{"note":"a constructor of meals","list":[1,{"a":"prototype"}]}',
      {
        note: 'a constructor of meals',
        list: [1, { a: 'prototype' }],
      },
    ],
    ['{"text":"say \\"hi\\"\\n"}', { text: 'say "hi"\n' }],
    ['[1,2,3]', [1, 2, 3]],
  ])('parses %s', (text, value) => {
    expect(parseJsonRefusingPrototypeKeys(text)).toEqual(value);
  });

  it.each([
    ['{"__proto__":{"admin":true}}', '__proto__'],
    ['{"a":{"b":[{"constructor":1}]}}', 'constructor'],
    ['{"prototype":null}', 'prototype'],
    // An escape spells the key without its letters appearing in the text.
    ['{"__pro\\u0074o__":{}}', '__proto__'],
    ['{"\\u0063onstructor":1}', 'constructor'],
  ])('refuses %s', (text, key) => {
    expect(() => parseJsonRefusingPrototypeKeys(text)).toThrow(new PrototypeKeyError(key));
  });

  it('refuses nesting too deep for a recursive parse, as the reviver does (RangeError)', () => {
    const depth = 200_000;
    const text = `{"x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    expect(() => parseJsonRefusingPrototypeKeys(text)).toThrow(RangeError);
    const nested = `{"x":${'['.repeat(100)}${']'.repeat(100)}}`;
    expect(parseJsonRefusingPrototypeKeys(nested)).toEqual(JSON.parse(nested));
  });

  it('throws SyntaxError for invalid JSON', () => {
    expect(() => parseJsonRefusingPrototypeKeys('{"type":')).toThrow(SyntaxError);
  });
});
