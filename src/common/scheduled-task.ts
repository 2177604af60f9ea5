import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';

/**
 * A piece of work run every `intervalMs` through @nestjs/schedule's registry (so it is listed and
 * cleared with the others), from application bootstrap until shutdown. Runs never overlap: a
 * tick that finds the previous run still going is skipped, and shutdown waits for the run in
 * progress. A subclass names the task and says what one run does.
 */
export abstract class ScheduledTask<T>
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly taskLogger: Logger;
  private running: Promise<T> | null = null;

  protected constructor(
    private readonly scheduler: SchedulerRegistry,
    private readonly name: string,
    private readonly intervalMs: number,
  ) {
    this.taskLogger = new Logger(name);
  }

  /** One run of the task. */
  protected abstract run(): Promise<T>;

  onApplicationBootstrap(): void {
    this.scheduler.addInterval(
      this.name,
      setInterval(() => {
        this.runOnce().catch((error: unknown) =>
          this.taskLogger.error({ err: error }, `${this.name} failed`),
        );
      }, this.intervalMs),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.scheduler.doesExist('interval', this.name)) this.scheduler.deleteInterval(this.name);
    await this.running?.catch(() => undefined);
  }

  /** Runs now, or joins the run in progress. */
  runOnce(): Promise<T> {
    this.running ??= this.run().finally(() => (this.running = null));
    return this.running;
  }
}
