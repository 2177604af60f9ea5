/** Keys that could reach an object's prototype if a parsed value were ever merged into another. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export class PrototypeKeyError extends Error {
  constructor(readonly key: string) {
    super(`Key "${key}" is not allowed`);
    this.name = 'PrototypeKeyError';
  }
}

/**
 * A `JSON.parse` reviver that refuses such keys at any depth, for every JSON the service parses
 * from clients (REST bodies, WebSocket frames). Without it a REST body's `__proto__` would pass
 * validation: JSON.parse makes it an own key, and the DTO transform quietly drops it.
 */
export function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (PROTOTYPE_KEYS.has(key)) throw new PrototypeKeyError(key);
  return value;
}
