/**
 * Event-driven waiting for test clients: `until` re-checks a condition whenever `wake` is called
 * (a frame or bytes arrived, the socket closed) and fails after a bounded time, never by sleeping.
 */
export class Waiters {
  private readonly checks = new Set<() => void>();

  wake(): void {
    for (const check of [...this.checks]) check();
  }

  /** Resolves with the first non-undefined value of `find`; rejects with `describe()` on timeout. */
  until<T>(find: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(describe()));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.checks.delete(check);
      };
      this.checks.add(check);
      check();
    });
  }
}
