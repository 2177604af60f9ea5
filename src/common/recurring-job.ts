import { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';

/**
 * A piece of scheduled work run every `intervalMs` through @nestjs/schedule's registry (so it is
 * listed and cleared with the others). Runs never overlap: a tick that finds the previous run
 * still going is skipped, and `stop` waits for the run in progress.
 */
export class RecurringJob<T> {
  private readonly logger: Logger;
  private running: Promise<T> | null = null;

  constructor(
    private readonly scheduler: SchedulerRegistry,
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<T>,
  ) {
    this.logger = new Logger(name);
  }

  start(): void {
    this.scheduler.addInterval(
      this.name,
      setInterval(() => {
        this.runOnce().catch((error: unknown) =>
          this.logger.error({ err: error }, `${this.name} failed`),
        );
      }, this.intervalMs),
    );
  }

  async stop(): Promise<void> {
    if (this.scheduler.doesExist('interval', this.name)) this.scheduler.deleteInterval(this.name);
    await this.running?.catch(() => undefined);
  }

  /** Runs now, or joins the run in progress. */
  runOnce(): Promise<T> {
    this.running ??= this.work().finally(() => (this.running = null));
    return this.running;
  }
}
