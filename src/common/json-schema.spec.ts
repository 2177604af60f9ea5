import {
  arrayOf,
  constant,
  extendObject,
  integer,
  nullable,
  objectSchema,
  oneOf,
  Schema,
  text,
} from './json-schema';

interface Sample {
  name: string;
  count: number;
  note: string | null;
  kind: 'a' | 'b';
}

describe('json-schema', () => {
  it('makes an object schema with every field required and no other field allowed', () => {
    expect(
      objectSchema<Sample>({
        name: text(),
        count: integer({ minimum: 0 }),
        note: nullable(text()),
        kind: oneOf(['a', 'b'] as const),
      }),
    ).toEqual({
      type: 'object',
      required: ['name', 'count', 'note', 'kind'],
      additionalProperties: false,
      properties: {
        name: { type: 'string' },
        count: { type: 'integer', minimum: 0 },
        note: { oneOf: [{ type: 'string' }, { type: 'null' }] },
        kind: { type: 'string', enum: ['a', 'b'] },
      },
    });
  });

  it('extends an object schema with another’s fields', () => {
    const frame = extendObject(
      objectSchema<{ type: 'x' }>({ type: constant('x') }),
      objectSchema<{ ids: string[] }>({ ids: arrayOf(text()) }),
      { description: 'd' },
    );
    expect(frame).toEqual({
      type: 'object',
      required: ['type', 'ids'],
      additionalProperties: false,
      properties: {
        type: { type: 'string', const: 'x' },
        ids: { type: 'array', items: { type: 'string' } },
      },
      description: 'd',
    });
    expect(() => extendObject(frame, text() as Schema<object>)).toThrow(/object schemas/);
  });

  it('refuses, at compile time, a schema that does not describe its type', () => {
    // Each line below fails to compile (tsc runs over the specs in `npm run lint`); at run time
    // they only build values.
    const wrong: unknown[] = [
      // @ts-expect-error a field is missing
      objectSchema<Sample>({ name: text(), count: integer(), note: nullable(text()) }),
      objectSchema<Sample>({
        name: text(),
        count: integer(),
        // @ts-expect-error a nullable field described as never null
        note: text(),
        kind: oneOf(['a', 'b'] as const),
      }),
      objectSchema<Sample>({
        // @ts-expect-error a number described as a string
        name: integer(),
        count: integer(),
        note: nullable(text()),
        kind: oneOf(['a', 'b'] as const),
      }),
      objectSchema<Sample>({
        name: text(),
        count: integer(),
        note: nullable(text()),
        // @ts-expect-error an enum with a value the type does not have
        kind: oneOf(['a', 'b', 'c'] as const),
      }),
    ];
    expect(wrong).toHaveLength(4);
  });
});
