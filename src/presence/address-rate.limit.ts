import { MessageRateLimiter } from '../realtime/message-rate.limiter';

/** Idle addresses are forgotten after this long (their bucket would be full again anyway). */
const FORGET_AFTER_MS = 60_000;
const SWEEP_EVERY_CHECKS = 1_000;

/**
 * A token bucket per remote address for upgrades: `perSecond` on average over 10 s. Addresses
 * not seen for a minute are dropped, so a scan from many addresses cannot grow the map forever.
 */
export class AddressRateLimit {
  private readonly buckets = new Map<string, { limiter: MessageRateLimiter; seenAt: number }>();
  private checks = 0;

  constructor(private readonly perSecond: number) {}

  allows(address: string, now = Date.now()): boolean {
    if (++this.checks % SWEEP_EVERY_CHECKS === 0) this.forgetIdle(now);
    let bucket = this.buckets.get(address);
    if (!bucket)
      this.buckets.set(
        address,
        (bucket = { limiter: new MessageRateLimiter(this.perSecond, now), seenAt: now }),
      );
    bucket.seenAt = now;
    return bucket.limiter.take(now) === 'allow';
  }

  private forgetIdle(now: number): void {
    for (const [address, bucket] of this.buckets) {
      if (now - bucket.seenAt > FORGET_AFTER_MS) this.buckets.delete(address);
    }
  }
}
