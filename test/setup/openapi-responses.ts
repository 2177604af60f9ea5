import type { OpenAPIObject } from '@nestjs/swagger';
import request from 'supertest';
import { OpenApiValidator, ReceivedResponse } from '../support/openapi-validator';

/**
 * Every response a test receives from a MealPulse service, through supertest or `fetch`, is
 * checked against the OpenAPI document that service serves (its /docs-json, fetched once per
 * origin): a route, status, header or body the document does not describe fails the test that
 * received it. Servers without /docs-json are not checked.
 *
 * The service under test may run in this process, and its own outbound `fetch` (to the meal
 * analyzer) passes through here too: only requests for the service's own routes are looked at,
 * so nothing else is probed or has its body read.
 */
const SERVICE_ROUTE = /^\/(?:api\/|health\/|metrics(?:$|\/))/i;
const originalFetch = globalThis.fetch;
const validators = new Map<string, Promise<OpenApiValidator | null>>();

function validatorFor(origin: string): Promise<OpenApiValidator | null> {
  let validator = validators.get(origin);
  if (validator === undefined) {
    validator = (async () => {
      let answer: Response;
      try {
        answer = await originalFetch(`${origin}/docs-json`, {
          signal: AbortSignal.timeout(10_000),
        });
      } catch {
        // The service answered and then went away (the crash tests kill it): its responses
        // cannot be checked, and the next response from this origin asks again.
        validators.delete(origin);
        return null;
      }
      if (answer.status === 404) return null;
      if (!answer.ok) throw new Error(`${origin}/docs-json answered ${answer.status}`);
      return new OpenApiValidator((await answer.json()) as OpenAPIObject);
    })();
    // A service that could not answer is asked again by the next response.
    validator.catch(() => validators.delete(origin));
    validators.set(origin, validator);
  }
  return validator;
}

function check(validator: OpenApiValidator | null, response: ReceivedResponse): void {
  const result = validator?.check(response);
  if (result !== undefined && 'problems' in result && result.problems.length > 0) {
    throw new Error(`The response breaks the OpenAPI document:\n${result.problems.join('\n')}`);
  }
}

type End = (
  this: request.Test,
  fn?: (error: unknown, response: request.Response) => void,
) => unknown;

const Test = request.Test as unknown as { prototype: { end: End } };
const end = Test.prototype.end;
Test.prototype.end = function (this: request.Test, fn) {
  return end.call(this, (error, response) => {
    if (error !== null || response === undefined) return fn?.call(this, error, response);
    const { url, method } = this as unknown as { url: string; method: string };
    validatorFor(new URL(url).origin)
      .then((validator) =>
        check(validator, {
          method,
          url,
          status: response.status,
          headers: response.headers,
          text: typeof response.text === 'string' ? response.text : '',
          body: response.body,
        }),
      )
      .then(
        () => fn?.call(this, null, response),
        (violation: unknown) => fn?.call(this, violation, response),
      );
  });
};

/** Streams are left to the test: their content type is checked, their body is not read. */
async function bodyOf(response: Response): Promise<{ text: string; body: unknown }> {
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    return { text: '', body: undefined };
  }
  const text = await response.clone().text();
  try {
    return { text, body: JSON.parse(text) as unknown };
  } catch {
    return { text, body: undefined };
  }
}

globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const response = await originalFetch(input, init);
  if (!SERVICE_ROUTE.test(new URL(url).pathname)) return response;
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  // A service that went away right after answering (a crash test) has no document to ask.
  const validator = await validatorFor(new URL(url).origin).catch(() => null);
  if (validator === null) return response;
  // A body the test aborted cannot be read, and is not checked.
  const read = await bodyOf(response).catch(() => null);
  if (read === null) return response;
  check(validator, {
    method,
    url,
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    ...read,
  });
  return response;
};
