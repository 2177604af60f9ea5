import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { buildAsyncApiDocument, componentName } from '../../src/gateway/asyncapi.document';

/**
 * Checks frames against the AsyncAPI document's frame schemas (the document the service serves,
 * built by the same function): a frame the document does not describe, or describes otherwise,
 * is a violation. Violations are collected here and fail the test that saw them
 * (test/setup/asyncapi-frames.ts), since a frame arrives in a socket's event handler, where a
 * throw would not reach the test.
 */
type Direction = 'server' | 'client';

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const components = (buildAsyncApiDocument().components as { schemas: Record<string, object> })
  .schemas;
const validators = new Map<string, ValidateFunction>();
const violations: string[] = [];

/** The frame types each side may send, as the document names them. */
const SENDERS: Record<Direction, ReadonlySet<string>> = {
  server: new Set(['welcome', 'pong', 'notification', 'error']),
  client: new Set(['ping', 'ack', 'app_state']),
};

function validatorOf(type: string): ValidateFunction | undefined {
  const name = componentName(type);
  if (!(name in components)) return undefined;
  let validate = validators.get(name);
  if (!validate) validators.set(name, (validate = ajv.compile(components[name])));
  return validate;
}

/** The problem with `text` as a frame sent by `direction`, or null when it obeys the document. */
export function frameProblem(direction: Direction, text: string): string | null {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  const type = (frame as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !SENDERS[direction].has(type))
    return `no ${direction} frame has type ${JSON.stringify(type)}`;
  const validate = validatorOf(type)!;
  if (validate(frame)) return null;
  return ajv.errorsText(validate.errors, { dataVar: type });
}

/** Checks a frame, and records a violation for the running test. */
export function checkFrame(direction: Direction, text: string): void {
  const problem = frameProblem(direction, text);
  if (problem !== null)
    violations.push(
      `${direction} frame breaks the AsyncAPI document: ${problem}; frame: ${text.slice(0, 300)}`,
    );
}

/** The violations seen since the last call, which it forgets. */
export function takeFrameViolations(): string[] {
  return violations.splice(0);
}
