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
  private readonly wakers = new Set<() => void>();
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
  next(
    predicate: (event: AdminEvent) => boolean,
    timeoutMs = 5_000,
    from = 0,
  ): Promise<AdminEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.events.slice(from).find(predicate);
        if (found) resolve(found);
        else if (this.ended) reject(new Error('the stream ended first'));
        else return false;
        return true;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.wakers.delete(waker);
        reject(new Error(`no matching admin event within ${timeoutMs} ms`));
      }, timeoutMs);
      const waker = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.wakers.delete(waker);
      };
      this.wakers.add(waker);
    });
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
          for (const wake of [...this.wakers]) wake();
        }
      }
    } catch {
      // Aborted by close(), or the server went away: either way the stream has ended.
    }
    this.ended = true;
    for (const wake of [...this.wakers]) wake();
  }
}
