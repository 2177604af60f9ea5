import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { finishesWithin } from '../common/deadline';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
import { MealLogJobRepository } from './meal-log-job.repository';
import { MealLogProcessor } from './meal-log.processor';

/**
 * Keeps up to `JOB_CONCURRENCY` jobs in flight: claims due jobs every `JOB_POLL_INTERVAL_MS`,
 * and at once when this process has just queued one (`wake`). Other processes find new jobs on
 * their next poll. Each claim goes on round the queue's users from where the last one ended, so
 * every user with work waiting gets a turn. Decisions about each job belong to MealLogProcessor.
 */
@Injectable()
export class MealLogWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(MealLogWorker.name);
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private pollAgain = false;
  private stopped = true;
  /** Where this worker's round of the queue's users stands: the last user its claims served. */
  private lastServedUserId = '';

  constructor(
    private readonly config: AppConfig,
    private readonly jobs: MealLogJobRepository,
    private readonly processor: MealLogProcessor,
    private readonly instance: ServiceInstance,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.jobs.concurrency === 0) return; // an API-only process
    this.stopped = false;
    this.schedule(0);
    this.logger.log(
      `Worker ${this.instance.id} started (concurrency ${this.config.jobs.concurrency})`,
    );
  }

  /**
   * Stops claiming and waits for the attempts in flight, before the database pool closes, for at
   * most half of SHUTDOWN_TIMEOUT_MS: a job is the one thing another process takes over on its
   * own (its lease expires), so it yields the rest of the time to what cannot be (closing the
   * sessions, auditing them). An attempt still running then is abandoned with the process, and its
   * job claimed again, by any instance, when its lease expires (a result it did commit removed
   * the job; one arriving after the new claim is refused by the attempt fence).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const drained = await finishesWithin(
      Promise.allSettled(this.inFlight),
      this.config.shutdown.timeoutMs / 2,
    );
    if (!drained)
      this.logger.warn(
        `job drain deadline passed; ${this.inFlight.size} attempt(s) left to be claimed again when their lease expires`,
      );
  }

  wake(): void {
    if (!this.stopped) this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    let claimedFull = false;
    try {
      const free = this.config.jobs.concurrency - this.inFlight.size;
      if (free > 0 && !this.stopped) {
        const claimed = await this.jobs.claimNextJobs(
          free,
          this.config.jobs.leaseMs,
          this.instance.id,
          this.lastServedUserId,
        );
        claimedFull = claimed.length === free;
        if (claimed.length > 0) this.lastServedUserId = claimed[claimed.length - 1].userId;
        for (const job of claimed) this.track(this.processor.process(job));
      }
    } catch (error) {
      if (isDatabaseUnavailable(error)) this.logger.warn('database unavailable; will poll again');
      else this.logger.error({ err: error }, 'claiming jobs failed');
    } finally {
      this.polling = false;
    }
    if (this.stopped) return;
    // More work is probably waiting when a claim filled every free slot.
    const again = this.pollAgain || claimedFull;
    this.pollAgain = false;
    this.schedule(
      again && this.inFlight.size < this.config.jobs.concurrency
        ? 0
        : this.config.jobs.pollIntervalMs,
    );
  }

  private track(attempt: Promise<void>): void {
    const tracked = attempt
      .catch((error: unknown) =>
        this.logger.error({ err: error }, 'job attempt failed unexpectedly'),
      )
      .finally(() => {
        this.inFlight.delete(tracked);
        this.wake(); // a slot is free: take the next due job without waiting for the poll
      });
    this.inFlight.add(tracked);
  }
}
