import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { OpenAPIObject, OperationObject, ResponseObject } from '@nestjs/swagger';

/** What a test received, as the validator needs it. */
export interface ReceivedResponse {
  method: string;
  /** The request's URL or path, query included or not. */
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text ('' when there was none), and parsed when it is JSON. */
  text: string;
  body: unknown;
}

/** Paths the document deliberately leaves out: the admin page and its assets, the docs. */
const UNDESCRIBED = [/^\/admin(?:\/|$)/, /^\/docs(?:[-/]|$)/];

/**
 * Statuses Node's HTTP server answers by itself, before the request reaches the service (header
 * section too large, headers too slow), with no body: no route's answers.
 */
/** What a request that names no route can be answered: the router's 404, the body parser's refusals. */
const UNROUTED_STATUSES = new Set([400, 404, 413, 415]);
const TRANSPORT_STATUSES = new Set([408, 431]);

/** Media types whose bodies are streams, never read whole. */
const STREAMED = new Set(['text/event-stream']);

const DOCUMENT_ID = 'openapi.json';

interface Route {
  template: string;
  pattern: RegExp;
  literalSegments: number;
  operations: Map<string, OperationObject>;
}

/**
 * An OpenAPI 3.0 schema as JSON Schema for ajv: `nullable` becomes a union with null, references
 * point into the registered document, and every object with `properties` is closed, so that a
 * field the document does not describe fails as surely as a described one with a wrong type.
 */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const schema: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (key === '$ref' && typeof value === 'string') {
      schema[key] = value.startsWith('#/') ? `${DOCUMENT_ID}${value}` : value;
    } else if (key === 'properties' && value !== null && typeof value === 'object') {
      schema[key] = Object.fromEntries(
        Object.entries(value).map(([name, property]) => [name, toJsonSchema(property)]),
      );
    } else {
      schema[key] = toJsonSchema(value);
    }
  }
  if ('properties' in schema && !('additionalProperties' in schema)) {
    schema.additionalProperties = false;
  }
  return nullable === true ? { anyOf: [schema, { type: 'null' }] } : schema;
}

function routeOf(template: string): Route {
  const segments = template.split('/');
  const source = segments
    .map((segment) =>
      /^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return {
    template,
    // The service's router matches paths case-insensitively and with an optional trailing
    // slash: `/api/v1/meal-logs/` is the list route.
    pattern: new RegExp(`^${source}/?$`, 'i'),
    literalSegments: segments.filter((segment) => !segment.startsWith('{')).length,
    operations: new Map(),
  };
}

function pathOf(url: string): string {
  const path = url.replace(/^[a-z]+:\/\/[^/]+/i, '').split(/[?#]/)[0];
  return path === '' ? '/' : path;
}

function mediaType(headers: ReceivedResponse['headers']): string | undefined {
  const value = headers['content-type'];
  const first = Array.isArray(value) ? value[0] : value;
  return first?.split(';')[0].trim().toLowerCase();
}

function excerpt(text: string, length = 600): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}

/**
 * Checks responses against an OpenAPI document: the route (method and path template), the
 * status, the required headers, the content type and the body. Returns the problems found, none
 * when the response is what the document says.
 */
export class OpenApiValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly routes: Route[];
  private readonly compiled = new Map<object, ValidateFunction>();
  private readonly errorSchema = { $ref: '#/components/schemas/ErrorResponse' };

  constructor(document: OpenAPIObject) {
    addFormats(this.ajv);
    this.ajv.addSchema(
      { $id: DOCUMENT_ID, components: toJsonSchema(document.components ?? {}) },
      DOCUMENT_ID,
    );
    this.routes = Object.entries(document.paths)
      .map(([template, item]) => {
        const route = routeOf(template);
        for (const [method, operation] of Object.entries(item)) {
          route.operations.set(method.toUpperCase(), operation as OperationObject);
        }
        return route;
      })
      // /meal-logs/natural before /meal-logs/{id}
      .sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** Problems with `response`, or a reason it is not checked (`skipped`). */
  check(response: ReceivedResponse): { skipped: string } | { problems: string[] } {
    const path = pathOf(response.url);
    const method = response.method.toUpperCase();
    const request = `${method} ${excerpt(path, 120)} → ${response.status}`;
    if (UNDESCRIBED.some((pattern) => pattern.test(path))) {
      return { skipped: `${path} is deliberately not described` };
    }
    if (TRANSPORT_STATUSES.has(response.status)) {
      return { skipped: `${response.status} is Node's HTTP server's own answer` };
    }
    const routes = this.routes.filter((route) => route.pattern.test(path));
    const route = routes.find((candidate) => candidate.operations.has(method));
    if (route === undefined) {
      // The router's own answer to a path or method it does not know is the error body, and so
      // is the body parser's, which runs before routing (400, 413, 415).
      if (UNROUTED_STATUSES.has(response.status))
        return this.checkBody(request, this.errorSchema, response);
      return {
        problems: [
          routes.length === 0
            ? `${request}: no path of the OpenAPI document matches it`
            : `${request}: ${routes[0].template} has no ${method} in the OpenAPI document`,
        ],
      };
    }
    const operation = route.operations.get(method)!;
    const answer = (operation.responses[response.status] ?? operation.responses.default) as
      ResponseObject | undefined;
    const where = `${method} ${route.template} → ${response.status}`;
    if (answer === undefined) {
      return {
        problems: [
          `${where}: status ${response.status} is not documented (documented: ${Object.keys(operation.responses).join(', ')}); body: ${excerpt(response.text)}`,
        ],
      };
    }
    const problems: string[] = [];
    for (const [name, header] of Object.entries(answer.headers ?? {})) {
      if ('required' in header && header.required === true) {
        if (response.headers[name.toLowerCase()] === undefined) {
          problems.push(`${where}: the required header ${name} is missing`);
        }
      }
    }
    const type = mediaType(response.headers);
    if (answer.content === undefined) {
      if (response.text !== '') problems.push(`${where}: a body where the document has none`);
      return { problems };
    }
    if (type === undefined || answer.content[type] === undefined) {
      problems.push(
        `${where}: content type ${type ?? '(none)'} is not documented (documented: ${Object.keys(answer.content).join(', ')})`,
      );
      return { problems };
    }
    if (STREAMED.has(type)) return { problems };
    const schema = answer.content[type].schema;
    if (schema === undefined) return { problems };
    const checked = this.checkBody(where, schema, response);
    return 'problems' in checked ? { problems: [...problems, ...checked.problems] } : checked;
  }

  private checkBody(
    where: string,
    schema: object,
    response: ReceivedResponse,
  ): { problems: string[] } {
    const validate = this.compile(schema);
    const value =
      mediaType(response.headers) === 'application/json' ? response.body : response.text;
    if (validate(value)) return { problems: [] };
    return {
      problems: [
        `${where}: the body does not match the OpenAPI document: ${this.ajv.errorsText(validate.errors, { dataVar: 'body' })}; body: ${excerpt(response.text)}`,
      ],
    };
  }

  private compile(schema: object): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (validate === undefined) {
      validate = this.ajv.compile(toJsonSchema(schema) as object);
      this.compiled.set(schema, validate);
    }
    return validate;
  }
}
