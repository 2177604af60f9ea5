/** One caller's request, waiting for the read that carries it. */
interface Waiting<Request, Answer> {
  request: Request;
  resolve: (answer: Answer) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces reads the way BatchWriter coalesces writes: what is asked in one event-loop turn
 * goes in one query, one query in flight at a time, and what is asked while it runs goes in the
 * next one (at most `maxBatch` requests per query). A storm of 19,000 reconnecting sessions then
 * reads the outbox in a few hundred queries instead of 19,000 that queue for a pool of 20. A
 * failed query rejects each of its requests; their callers decide whether to ask again.
 */
export class BatchReader<Request, Answer> {
  private queue: Waiting<Request, Answer>[] = [];
  private scheduled = false;
  private reading = false;

  /** `readMany` answers every request it is given, in order. */
  constructor(
    private readonly readMany: (requests: Request[]) => Promise<Answer[]>,
    private readonly maxBatch: number,
  ) {}

  read(request: Request): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.reading) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.reading = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const answers = await this.readMany(batch.map((waiting) => waiting.request));
          batch.forEach((waiting, i) => waiting.resolve(answers[i]));
        } catch (error) {
          for (const waiting of batch) waiting.reject(error);
        }
      }
    } finally {
      this.reading = false;
    }
  }
}
