import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AnalyzerRequest {
  text: string;
  response: ServerResponse;
}

/**
 * A stand-in for the external analysis service (ANALYZER_URL), the one truly external system.
 * Every request is recorded; `respond` decides the answer (it may also never answer).
 */
export class FakeAnalyzer {
  readonly requests: string[] = [];
  private server: Server | null = null;

  constructor(private respond: (request: AnalyzerRequest) => void = FakeAnalyzer.succeed) {}

  static succeed({ text, response }: AnalyzerRequest): void {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        items: [
          {
            name: text,
            quantity: 1,
            unit: 'serving',
            grams: 100,
            calories: 52,
            proteinG: 0.3,
            carbsG: 13.8,
            fatG: 0.2,
          },
        ],
      }),
    );
  }

  static fail(status: number) {
    return ({ response }: AnalyzerRequest): void => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'unavailable' }));
    };
  }

  setBehaviour(respond: (request: AnalyzerRequest) => void): void {
    this.respond = respond;
  }

  countFor(text: string): number {
    return this.requests.filter((t) => t === text).length;
  }

  async start(): Promise<string> {
    this.server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const text = (JSON.parse(body) as { text: string }).text;
        this.requests.push(text);
        this.respond({ text, response });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/analyze`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
