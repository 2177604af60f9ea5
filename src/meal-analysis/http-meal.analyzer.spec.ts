import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpMealAnalyzer } from './http-meal.analyzer';
import { MealAnalysisError } from './meal-analysis.error';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const TIMEOUT_MS = 300;
// Generous slack for a loaded CI machine; the point is "bounded", not "fast".
const DEADLINE_SLACK_MS = 3000;

/** A local stand-in for the external analysis service, listening on a free port. */
class FakeService {
  private handler: Handler = (_req, res) => res.end('{}');
  readonly requests: { method?: string; contentType?: string; body: string }[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeService> {
    const server = createServer();
    const service = new FakeService(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        service.requests.push({
          method: req.method,
          contentType: req.headers['content-type'],
          body,
        });
        service.handler(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return service;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/analyze`;
  }

  respondWith(handler: Handler): void {
    this.handler = handler;
  }

  respondJson(status: number, payload: unknown): void {
    this.respondWith((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    });
  }

  async stop(): Promise<void> {
    // Requests left hanging on purpose (timeout tests) would otherwise keep the server open.
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }
}

async function failureOf(promise: Promise<unknown>): Promise<MealAnalysisError> {
  const outcome = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(outcome instanceof MealAnalysisError)) {
    throw new Error(`expected a MealAnalysisError, got ${String(outcome)}`);
  }
  return outcome;
}

const appleItem = {
  name: 'apple',
  quantity: 1,
  unit: 'small',
  grams: 149,
  calories: 77.48,
  proteinG: 0.3874,
  carbsG: 20.5769,
  fatG: 0.2533,
};

describe('HttpMealAnalyzer', () => {
  let service: FakeService;
  let analyzer: HttpMealAnalyzer;

  beforeEach(async () => {
    service = await FakeService.start();
    analyzer = new HttpMealAnalyzer(service.url, TIMEOUT_MS);
  });

  afterEach(async () => {
    await service.stop();
  });

  it('posts the text as JSON and returns the validated items with computed totals', async () => {
    service.respondJson(200, {
      items: [
        appleItem,
        { ...appleItem, name: 'banana', unit: 'medium', grams: 118.04, calories: 105.06 },
      ],
      unrecognized: ['flurble'],
    });

    const analysis = await analyzer.analyze('1 small apple, a banana and a flurble');

    expect(service.requests).toEqual([
      {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({ text: '1 small apple, a banana and a flurble' }),
      },
    ]);
    expect(analysis).toEqual({
      items: [
        {
          name: 'apple',
          quantity: 1,
          unit: 'small',
          grams: 149,
          calories: 77,
          proteinG: 0.4,
          carbsG: 20.6,
          fatG: 0.3,
        },
        {
          name: 'banana',
          quantity: 1,
          unit: 'medium',
          grams: 118,
          calories: 105,
          proteinG: 0.4,
          carbsG: 20.6,
          fatG: 0.3,
        },
      ],
      // From the unrounded values: 182.54 kcal, 0.7748 g, 41.1538 g, 0.5066 g
      totals: { calories: 183, proteinG: 0.8, carbsG: 41.2, fatG: 0.5 },
      unrecognized: ['flurble'],
    });
  });

  it('treats a missing "unrecognized" as none', async () => {
    service.respondJson(200, { items: [appleItem] });

    await expect(analyzer.analyze('1 small apple')).resolves.toMatchObject({ unrecognized: [] });
  });

  it('fails retryably within the timeout when the service never answers', async () => {
    service.respondWith(() => {
      // Never respond.
    });

    const started = Date.now();
    const error = await failureOf(analyzer.analyze('1 small apple'));

    expect(error.retryable).toBe(true);
    expect(error.message).toBe(`The meal analysis service did not answer within ${TIMEOUT_MS} ms`);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + DEADLINE_SLACK_MS);
  });

  it('fails retryably when the body stalls after the headers', async () => {
    service.respondWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items": [');
    });

    const started = Date.now();
    const error = await failureOf(analyzer.analyze('1 small apple'));

    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/did not answer within/);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + DEADLINE_SLACK_MS);
  });

  it('fails retryably when the service cannot be reached', async () => {
    const gone = await FakeService.start();
    const unreachable = new HttpMealAnalyzer(gone.url, TIMEOUT_MS);
    await gone.stop();

    const error = await failureOf(unreachable.analyze('1 small apple'));

    expect(error.retryable).toBe(true);
    expect(error.message).toBe('The meal analysis service could not be reached (ECONNREFUSED)');
  });

  it.each([
    [500, true],
    [502, true],
    [503, true],
    [408, true],
    [429, true],
    [400, false],
    [404, false],
    [422, false],
  ])('maps HTTP %i to retryable=%s', async (status, retryable) => {
    service.respondJson(status, { error: 'meal text was "1 small apple"' });

    const error = await failureOf(analyzer.analyze('1 small apple'));

    expect(error.retryable).toBe(retryable);
    expect(error.message).toContain(`HTTP ${status}`);
    // Neither the user's text nor the service's body (which may echo it) reach the message.
    expect(error.message).not.toContain('apple');
  });

  it.each<[string, unknown]>([
    ['not JSON', '{"items": [ oops'],
    ['an empty body', ''],
    ['a JSON array', '[]'],
    ['a JSON string', '"apple"'],
    ['no items', {}],
    ['items not an array', { items: { 0: appleItem } }],
    ['an item that is not an object', { items: ['apple'] }],
    ['an empty name', { items: [{ ...appleItem, name: '  ' }] }],
    ['a missing unit', { items: [{ ...appleItem, unit: undefined }] }],
    ['a negative number', { items: [{ ...appleItem, grams: -1 }] }],
    ['a number as string', { items: [{ ...appleItem, calories: '77' }] }],
    ['a missing number', { items: [{ ...appleItem, fatG: undefined }] }],
    ['a null number', { items: [{ ...appleItem, proteinG: null }] }],
    [
      'a huge number that is not finite',
      `{"items": [${JSON.stringify(appleItem).replace('149', '1e400')}]}`,
    ],
    ['unrecognized not a string array', { items: [appleItem], unrecognized: [1, 2] }],
  ])('fails non-retryably on a response with %s', async (_case, payload) => {
    service.respondJson(200, payload);

    const error = await failureOf(analyzer.analyze('1 small apple'));

    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(
      /^The meal analysis service answered with (malformed JSON|an invalid result: .+)$/,
    );
  });

  it('reports "no food recognised" as not retryable when the service finds no item', async () => {
    service.respondJson(200, { items: [], unrecognized: ['blah', 'blah'] });

    const error = await failureOf(analyzer.analyze('blah blah'));

    expect(error.retryable).toBe(false);
    expect(error.message).toBe('No food recognised in "blah blah"');
  });

  it('refuses a timeout that is not a positive number', () => {
    expect(() => new HttpMealAnalyzer(service.url, 0)).toThrow(/positive number/);
    expect(() => new HttpMealAnalyzer(service.url, Number.NaN)).toThrow(/positive number/);
  });
});
