import { Waiters } from '../../tools/common/waiters';
import { tokenFor } from './tokens';

export interface AdminEvent {
  type: string;
  data: Record<string, unknown>;
}

/**
 * A client of the admin event stream (server-sent events over a real HTTP connection): it keeps
 * every event, and waits for one with a bounded timeout.
 */
export class AdminEventStream {
  readonly events: AdminEvent[] = [];
  private readonly waiters = new Waiters();
  private ended = false;

  private constructor(
    readonly status: number,
    readonly headers: Headers,
    private readonly abort: AbortController,
  ) {}

  static async open(
    baseUrl: string,
    token = tokenFor('root', { roles: ['admin'] }),
  ): Promise<AdminEventStream> {
    const abort = new AbortController();
    const response = await fetch(`${baseUrl}/api/v1/admin/events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: abort.signal,
    });
    const stream = new AdminEventStream(response.status, response.headers, abort);
    if (response.ok && response.body) void stream.read(response.body);
    else {
      stream.ended = true;
      await response.body?.cancel();
    }
    return stream;
  }

  /** Waits for the first event (already received or coming) that matches. */
  async next(
    predicate: (event: AdminEvent) => boolean,
    timeoutMs = 5_000,
    from = 0,
  ): Promise<AdminEvent> {
    const found = await this.waiters.until(
      () => this.events.slice(from).find(predicate) ?? (this.ended ? null : undefined),
      timeoutMs,
      () => `no matching admin event within ${timeoutMs} ms`,
    );
    if (found === null) throw new Error('the stream ended first');
    return found;
  }

  /** Resolves when the server ends the stream. */
  endedWithin(timeoutMs: number): Promise<void> {
    return this.next(() => false, timeoutMs).then(
      () => undefined,
      (error: Error) => {
        if (!this.ended) throw error;
      },
    );
  }

  close(): void {
    this.abort.abort();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of body) {
        buffered += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) !== -1) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          let type = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          this.events.push({ type, data: JSON.parse(data) as Record<string, unknown> });
          this.waiters.wake();
        }
      }
    } catch {
      // Aborted by close(), or the server went away: either way the stream has ended.
    }
    this.ended = true;
    this.waiters.wake();
  }
}
