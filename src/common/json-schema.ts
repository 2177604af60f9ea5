/**
 * JSON Schemas (draft 07, the dialect AsyncAPI 3 reads) built in code and typed by the value they
 * describe: `Schema<T>` can only be made for a T, and an object's schema must name every field of
 * its type with a schema of that field's type. A field that is added to a frame type, changes
 * type or becomes nullable therefore fails to compile until its schema says so: the published
 * document cannot drift from what the code sends.
 */
declare const describes: unique symbol;

export interface JsonSchema {
  readonly [keyword: string]: unknown;
}

/**
 * A schema of values of type T. The phantom member makes the type invariant in T: a schema of
 * `string` is not one of `string | null`, so nullable fields must be declared `nullable(...)`.
 */
export type Schema<T> = JsonSchema & { readonly [describes]?: (value: T) => T };

/** What any schema may add: documentation and bounds. */
export interface Annotations {
  /** A name for the type, which code generators use (quicktype names its struct after it). */
  title?: string;
  description?: string;
  examples?: readonly unknown[];
}

export interface StringAnnotations extends Annotations {
  format?: 'date-time' | 'uuid';
  pattern?: string;
  minLength?: number;
  maxLength?: number;
}

export interface NumberAnnotations extends Annotations {
  minimum?: number;
  maximum?: number;
}

export function text(annotations: StringAnnotations = {}): Schema<string> {
  return { type: 'string', ...annotations };
}

export function integer(annotations: NumberAnnotations = {}): Schema<number> {
  return { type: 'integer', ...annotations };
}

export function number(annotations: NumberAnnotations = {}): Schema<number> {
  return { type: 'number', ...annotations };
}

export function constant<T extends string>(value: T, annotations: Annotations = {}): Schema<T> {
  return { type: 'string', const: value, ...annotations };
}

export function oneOf<T extends string>(
  values: readonly T[],
  annotations: Annotations = {},
): Schema<T> {
  return { type: 'string', enum: [...values], ...annotations };
}

export function nullable<T>(schema: Schema<T>, annotations: Annotations = {}): Schema<T | null> {
  return { oneOf: [schema, { type: 'null' }], ...annotations };
}

export function arrayOf<T>(items: Schema<T>, annotations: Annotations = {}): Schema<T[]> {
  return { type: 'array', items, ...annotations };
}

export type PropertySchemas<T> = { [K in keyof T]-?: Schema<T[K]> };

/** An object with exactly these fields, all present (the frames have no optional fields). */
export function objectSchema<T extends object>(
  properties: PropertySchemas<T>,
  annotations: Annotations = {},
): Schema<T> {
  return closedObject(properties, annotations);
}

/**
 * An object schema with the fields of `base` and of `extension`: a frame is its payload plus
 * `type`. Both must be made by `objectSchema`.
 */
export function extendObject<A extends object, B extends object>(
  base: Schema<A>,
  extension: Schema<B>,
  annotations: Annotations = {},
): Schema<A & B> {
  return closedObject({ ...propertiesOf(base), ...propertiesOf(extension) }, annotations);
}

function closedObject(properties: object, annotations: Annotations): JsonSchema {
  return {
    type: 'object',
    required: Object.keys(properties),
    additionalProperties: false,
    properties,
    ...annotations,
  };
}

function propertiesOf(schema: JsonSchema): Record<string, JsonSchema> {
  const { properties } = schema as { properties?: Record<string, JsonSchema> };
  if (schema.type !== 'object' || properties === undefined)
    throw new Error('extendObject takes object schemas');
  return properties;
}
