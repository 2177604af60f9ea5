import { takeFrameViolations } from '../support/asyncapi-frames';

/**
 * Every frame a test client sends or receives is checked against the AsyncAPI document
 * (test/support/asyncapi-frames.ts); a test during which one broke it fails (a violation in a
 * `beforeAll` fails the first test after it).
 */
afterEach(() => {
  const violations = takeFrameViolations();
  if (violations.length > 0) throw new Error(violations.join('\n'));
});
