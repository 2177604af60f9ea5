import type { OpenAPIObject, SchemaObject } from '@nestjs/swagger';
import { generateOpenApiDocument } from '../tools/openapi/openapi-document';
import { OpenApiValidator, ReceivedResponse } from './support/openapi-validator';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', etag: 'W/"1"' };

const PROCESSING_LOG = {
  id: '0b0c4f3e-8a52-4b8e-9d7e-2a7f4f0f6f10',
  status: 'processing',
  text: '1 small apple',
  mealType: null,
  loggedAt: '2026-11-21T12:30:00.000Z',
  createdAt: '2026-11-21T12:30:00.000Z',
  completedAt: null,
  items: [],
  totals: null,
  unrecognized: [],
  error: null,
};

function received(overrides: Partial<ReceivedResponse>): ReceivedResponse {
  const body = overrides.body ?? PROCESSING_LOG;
  return {
    method: 'GET',
    url: `http://127.0.0.1:3000/api/v1/meal-logs/${PROCESSING_LOG.id}`,
    status: 200,
    headers: JSON_HEADERS,
    text: JSON.stringify(body),
    body,
    ...overrides,
  };
}

function problemsOf(validator: OpenApiValidator, response: ReceivedResponse): string[] {
  const result = validator.check(response);
  if ('skipped' in result) throw new Error(`skipped: ${result.skipped}`);
  return result.problems;
}

describe('OpenApiValidator against the service’s document', () => {
  let document: OpenAPIObject;
  let validator: OpenApiValidator;

  beforeAll(async () => {
    document = await generateOpenApiDocument();
    validator = new OpenApiValidator(document);
  });

  it('accepts a MealLog that is still processing (totals, completedAt and error null)', () => {
    expect(problemsOf(validator, received({}))).toEqual([]);
  });

  it('refuses the same MealLog when the schema does not allow totals to be null', () => {
    const wrong = structuredClone(document);
    const mealLog = wrong.components!.schemas!.MealLogResponse as SchemaObject;
    delete (mealLog.properties!.totals as SchemaObject).nullable;
    const problems = problemsOf(new OpenApiValidator(wrong), received({}));
    expect(problems).toEqual([expect.stringContaining('body/totals must be object')]);
  });

  it('refuses a field the document does not describe, and a wrong format', () => {
    const extra = { ...PROCESSING_LOG, secret: 'x' };
    expect(problemsOf(validator, received({ body: extra }))).toEqual([
      expect.stringContaining('must NOT have additional properties'),
    ]);
    const badDate = { ...PROCESSING_LOG, createdAt: 'yesterday' };
    expect(problemsOf(validator, received({ body: badDate }))).toEqual([
      expect.stringContaining('body/createdAt must match format "date-time"'),
    ]);
  });

  it('refuses an undocumented status, a missing required header and an unknown path', () => {
    expect(problemsOf(validator, received({ status: 418 }))).toEqual([
      expect.stringContaining('status 418 is not documented'),
    ]);
    expect(
      problemsOf(validator, received({ headers: { 'content-type': 'application/json' } })),
    ).toEqual([expect.stringContaining('the required header ETag is missing')]);
    expect(
      problemsOf(validator, received({ url: 'http://127.0.0.1:3000/api/v1/meals', status: 200 })),
    ).toEqual([expect.stringContaining('no path of the OpenAPI document matches')]);
  });

  it('checks error bodies: statusCode, error and message, nothing else undocumented', () => {
    const notFound = { statusCode: 404, error: 'Not Found', message: 'Meal log not found' };
    expect(problemsOf(validator, received({ status: 404, body: notFound }))).toEqual([]);
    const bare = { message: 'Meal log not found' };
    expect(problemsOf(validator, received({ status: 404, body: bare }))).toEqual([
      expect.stringContaining("must have required property 'statusCode'"),
    ]);
  });

  it('matches the literal route before the templated one', () => {
    const created = received({
      method: 'POST',
      url: 'http://127.0.0.1:3000/api/v1/meal-logs/natural',
      status: 201,
      headers: { 'content-type': 'application/json' },
    });
    expect(problemsOf(validator, created)).toEqual([]);
  });

  it('skips what the document deliberately leaves out', () => {
    expect(validator.check(received({ url: '/admin/assets/index.js', status: 200 }))).toEqual({
      skipped: expect.any(String),
    });
  });
});
