import { Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ScheduledTask } from '../common/scheduled-task';
import { Metrics } from '../metrics/metrics';
import { PresenceService } from '../presence/presence.service';
import type { StatsSample } from './admin-events.types';
import { latencyBetween } from './delivery-latency';

export const STATS_INTERVAL_MS = 5_000;
/** The chart's window: 15 minutes of samples. */
export const STATS_WINDOW_MS = 15 * 60_000;

interface HistogramReading {
  buckets: number[];
  count: number;
}

/**
 * Samples online sessions and delivery latency every STATS_INTERVAL_MS and keeps the last 15
 * minutes in memory, so a console opened now draws its chart at once. Two reads of counts per
 * sample: cheap enough to run whether or not anyone watches.
 */
@Injectable()
export class AdminStatsSampler extends ScheduledTask<void> {
  private readonly logger = new Logger(AdminStatsSampler.name);
  private readonly samples: StatsSample[] = [];
  private readonly listeners = new Set<(sample: StatsSample) => void>();
  private previous: HistogramReading | null = null;
  private bounds: number[] = [];

  constructor(
    scheduler: SchedulerRegistry,
    private readonly presence: PresenceService,
    private readonly metrics: Metrics,
  ) {
    super(scheduler, 'admin-stats', STATS_INTERVAL_MS);
  }

  override onApplicationBootstrap(): void {
    void this.runOnce();
    super.onApplicationBootstrap();
  }

  /** The samples of the last 15 minutes, oldest first. */
  history(): StatsSample[] {
    return [...this.samples];
  }

  /** Calls `listener` with every new sample; returns what stops it. */
  watch(listener: (sample: StatsSample) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected async run(): Promise<void> {
    try {
      const sample = await this.sample(Date.now());
      this.samples.push(sample);
      const oldest = Date.now() - STATS_WINDOW_MS;
      while (this.samples.length > 0 && Date.parse(this.samples[0].at) < oldest)
        this.samples.shift();
      for (const listener of this.listeners) listener(sample);
    } catch (error) {
      this.logger.warn({ err: error }, 'admin stats sample failed');
    }
  }

  private async sample(now: number): Promise<StatsSample> {
    const [{ onlineUsers, sessions }, reading] = await Promise.all([
      this.presence.overview(0, now),
      this.readLatency(),
    ]);
    const latency = latencyBetween(this.bounds, this.previous?.buckets ?? [], reading.buckets, {
      before: this.previous?.count ?? 0,
      after: reading.count,
    });
    this.previous = reading;
    return {
      at: new Date(now).toISOString(),
      onlineUsers,
      sessions,
      deliveries: latency.deliveries,
      deliveryP50Ms: latency.p50Ms,
      deliveryP95Ms: latency.p95Ms,
    };
  }

  private async readLatency(): Promise<HistogramReading> {
    const { values } = await this.metrics.deliveryLatency.get();
    const buckets: number[] = [];
    const bounds: number[] = [];
    let count = 0;
    for (const value of values) {
      if (value.metricName?.endsWith('_count')) count = value.value;
      else if (value.metricName?.endsWith('_bucket') && value.labels.le !== '+Inf') {
        bounds.push(Number(value.labels.le));
        buckets.push(value.value);
      }
    }
    this.bounds = bounds;
    return { buckets, count };
  }
}
