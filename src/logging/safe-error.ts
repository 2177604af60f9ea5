/*
 * What a log line may say about an error. Errors from PostgreSQL and Redis quote the data they
 * choked on (`invalid input syntax for type uuid: "…"`, `Failing row contains (…)`), TypeORM's
 * carry the statement and its parameters, and the analyzer's name the meal's words: a meal's text,
 * a user id, a token. So a log line gets an error's name, its code and the schema objects
 * PostgreSQL names, its stack frames without the message line, and a message only from the
 * built-in errors whose messages name code, never data.
 */

/** Built-in errors whose message names code, never data. */
const PROGRAMMING_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError']);

/**
 * The fields of an error a log line may show: the error's name, PostgreSQL's code (or a Redis
 * error's leading word) and the schema objects PostgreSQL names. Never the message or detail of a
 * store's error, which can quote the row (a meal's text, a token), nor the statement's parameters.
 */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: typeof error };
  const { code, constraint, table, column } = error as Error & Record<string, unknown>;
  return {
    error: error.name,
    code: typeof code === 'string' ? code : /^[A-Z]+(?= )/.exec(error.message)?.[0],
    constraint,
    table,
    column,
    message: PROGRAMMING_ERRORS.has(error.name) ? error.message : undefined,
  };
}

/** The stack's frames, without its first line (the message). */
function frames(stack: unknown): string[] | undefined {
  if (typeof stack !== 'string') return undefined;
  return stack
    .split('\n')
    .filter((line) => line.startsWith('    at '))
    .slice(0, 12)
    .map((line) => line.trim());
}

/**
 * An error as an Error, or as pino's standard serializer turns it into a plain object
 * (`{type, message, stack, …}`), should a logger have serialised it before this one runs.
 */
function asError(value: unknown): Error | null {
  if (value instanceof Error) return value;
  if (typeof value !== 'object' || value === null) return null;
  const plain = value as Record<string, unknown>;
  if (typeof plain.type !== 'string') return null;
  return Object.assign(Object.create(Error.prototype) as Error, plain, {
    name: plain.type,
    message: typeof plain.message === 'string' ? plain.message : '',
  });
}

/** pino's `err` serializer: every `{ err }` any logger writes goes through it. */
export function safeError(value: unknown): Record<string, unknown> {
  const error = asError(value);
  if (error === null) return { type: typeof value };
  const { error: type, ...fields } = errorFields(error);
  return {
    type,
    ...fields,
    stack: frames(error.stack),
    cause: error.cause === undefined ? undefined : safeError(error.cause),
  };
}
