import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from './json-depth';

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

/**
 * Text that may hold such a key: one of them literally, or an escape, which could spell one
 * (`"__pro\u0074o__"`). Without either, no key can be one of them.
 */
const MAY_HOLD_PROTOTYPE_KEY = /__proto__|constructor|prototype|\\/;

/**
 * `JSON.parse(text, refusePrototypeKeys)`, with the same outcome for every text, without the
 * reviver's cost (a call per value, and V8's slower parse) for text that cannot hold such a key
 * and nests no deeper than MAX_JSON_DEPTH: nearly every WebSocket frame and Redis message, which
 * are parsed on the hot paths. Deeper text takes the reviver's parse, whose recursion refuses
 * (RangeError) what would exhaust the stack of anything recursive walking it later.
 */
export function parseJsonRefusingPrototypeKeys(text: string): unknown {
  return MAY_HOLD_PROTOTYPE_KEY.test(text) || jsonNestsDeeperThan(text, MAX_JSON_DEPTH)
    ? JSON.parse(text, refusePrototypeKeys)
    : (JSON.parse(text) as unknown);
}
