export type RateDecision = 'allow' | 'limit' | 'close';

/**
 * A token bucket per session: `perSecond` messages per second on average over `windowSeconds`
 * (so short bursts up to perSecond × windowSeconds pass). Past that, messages are refused with an
 * `error` frame; a client that keeps sending while refused for another `perSecond` messages is
 * closed (1008).
 */
export class MessageRateLimiter {
  private tokens: number;
  private refusedInARow = 0;
  private updatedAt: number;
  private readonly capacity: number;

  constructor(
    private readonly perSecond: number,
    now: number,
    windowSeconds = 10,
  ) {
    this.capacity = perSecond * windowSeconds;
    this.tokens = this.capacity;
    this.updatedAt = now;
  }

  take(now: number): RateDecision {
    const elapsedSeconds = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.capacity, this.tokens + elapsedSeconds * this.perSecond);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return 'allow';
    }
    this.refusedInARow += 1;
    return this.refusedInARow > this.perSecond ? 'close' : 'limit';
  }
}
