import type { OpenAPIObject } from '@nestjs/swagger';
import request from 'supertest';
import { OpenApiValidator } from '../support/openapi-validator';

/**
 * Every response a test receives through supertest is checked against the OpenAPI document of the
 * service that sent it (its /docs-json, fetched once per service): a status, header or body the
 * document does not describe fails the test that received it. Requests made with `fetch` are not
 * seen here.
 */
type End = (
  this: request.Test,
  fn?: (error: unknown, response: request.Response) => void,
) => unknown;

const validators = new Map<string, Promise<OpenApiValidator>>();

function validatorFor(origin: string): Promise<OpenApiValidator> {
  let validator = validators.get(origin);
  if (validator === undefined) {
    validator = (async () => {
      const answer = await fetch(`${origin}/docs-json`, { signal: AbortSignal.timeout(10_000) });
      if (!answer.ok) throw new Error(`${origin}/docs-json answered ${answer.status}`);
      return new OpenApiValidator((await answer.json()) as OpenAPIObject);
    })();
    // A service that could not answer is asked again by the next response.
    validator.catch(() => validators.delete(origin));
    validators.set(origin, validator);
  }
  return validator;
}

async function check(test: request.Test, response: request.Response): Promise<void> {
  const { url, method } = test as unknown as { url: string; method: string };
  const validator = await validatorFor(new URL(url).origin);
  const result = validator.check({
    method,
    url,
    status: response.status,
    headers: response.headers,
    text: typeof response.text === 'string' ? response.text : '',
    body: response.body,
  });
  if ('problems' in result && result.problems.length > 0) {
    throw new Error(`The response breaks the OpenAPI document:\n${result.problems.join('\n')}`);
  }
}

const Test = request.Test as unknown as { prototype: { end: End } };
const end = Test.prototype.end;
Test.prototype.end = function (this: request.Test, fn) {
  return end.call(this, (error, response) => {
    if (error !== null || response === undefined) return fn?.call(this, error, response);
    check(this, response).then(
      () => fn?.call(this, null, response),
      (violation: unknown) => fn?.call(this, violation, response),
    );
  });
};
