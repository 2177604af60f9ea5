import { Agent, request } from 'node:http';
import { sign } from 'jsonwebtoken';
import { userIdOf } from './session-pool';
import { MEAL_TEXT } from './steady-rate';

/** Posts are sent in small batches this often, to hold the rate steady. */
const TICK_MS = 10;

export interface PostResult {
  /** Ids of the meal logs the server accepted (201). */
  accepted: string[];
  failed: number;
  elapsedMs: number;
}

/**
 * Posts meal logs over REST at a steady rate, round-robin over the load sessions' users, as the
 * phones of W3 would: the entry of the real pipeline.
 */
export class MealPoster {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly tokens = new Map<number, string>();
  private nextUser = 0;

  constructor(
    private readonly port: number,
    private readonly users: number,
    private readonly jwtSecret: string,
  ) {}

  async post(ratePerSecond: number, durationMs: number): Promise<PostResult> {
    const accepted: string[] = [];
    let failed = 0;
    const inFlight = new Set<Promise<void>>();
    const started = performance.now();
    let sent = 0;
    while (performance.now() - started < durationMs) {
      const due = Math.floor(((performance.now() - started) / 1000) * ratePerSecond);
      for (; sent < due; sent++) {
        const posting = this.postOne().then(
          (id) => void (id ? accepted.push(id) : failed++),
          () => void failed++,
        );
        inFlight.add(posting);
        void posting.finally(() => inFlight.delete(posting));
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    await Promise.all(inFlight);
    return { accepted, failed, elapsedMs: performance.now() - started };
  }

  close(): void {
    this.agent.destroy();
  }

  private tokenFor(index: number): string {
    let token = this.tokens.get(index);
    if (!token) {
      token = sign({ sub: userIdOf(index) }, this.jwtSecret, {
        algorithm: 'HS256',
        expiresIn: 3600,
      });
      this.tokens.set(index, token);
    }
    return token;
  }

  /** Resolves with the new log's id, or null when the server refused it. */
  private postOne(): Promise<string | null> {
    const index = this.nextUser;
    this.nextUser = (this.nextUser + 1) % this.users;
    const body = JSON.stringify({ text: MEAL_TEXT });
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: '127.0.0.1',
          port: this.port,
          method: 'POST',
          path: '/api/v1/meal-logs/natural',
          headers: {
            authorization: `Bearer ${this.tokenFor(index)}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            if (response.statusCode !== 201) return resolve(null);
            resolve((JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id);
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
