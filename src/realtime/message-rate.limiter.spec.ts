import { MessageRateLimiter, RateDecision } from './message-rate.limiter';

function run(limiter: MessageRateLimiter, count: number, at: number): RateDecision[] {
  return Array.from({ length: count }, () => limiter.take(at));
}

describe('MessageRateLimiter', () => {
  it('allows a burst of perSecond × window, then limits, then closes', () => {
    const limiter = new MessageRateLimiter(20, 0);
    expect(run(limiter, 200, 0)).toEqual(Array(200).fill('allow'));
    expect(run(limiter, 20, 0)).toEqual(Array(20).fill('limit'));
    expect(limiter.take(0)).toBe('close');
  });

  it.each([
    { perSecond: 20, elapsedMs: 1_000, allowedAfterBurst: 20 },
    { perSecond: 20, elapsedMs: 500, allowedAfterBurst: 10 },
    { perSecond: 5, elapsedMs: 2_000, allowedAfterBurst: 10 },
    { perSecond: 5, elapsedMs: 60_000, allowedAfterBurst: 50 }, // refill caps at the bucket size
  ])(
    'refills $perSecond/s: after $elapsedMs ms, $allowedAfterBurst more pass',
    ({ perSecond, elapsedMs, allowedAfterBurst }) => {
      const limiter = new MessageRateLimiter(perSecond, 0);
      run(limiter, perSecond * 10, 0);
      const decisions = run(limiter, allowedAfterBurst + 1, elapsedMs);
      expect(decisions).toEqual([...Array(allowedAfterBurst).fill('allow'), 'limit']);
    },
  );

  it('forgives a client that slows down', () => {
    const limiter = new MessageRateLimiter(2, 0);
    run(limiter, 20, 0);
    expect(run(limiter, 2, 0)).toEqual(['limit', 'limit']);
    expect(limiter.take(500)).toBe('allow');
    expect(run(limiter, 3, 500)).toEqual(['limit', 'limit', 'close']);
  });

  it('keeps a steady client under the limit forever', () => {
    const limiter = new MessageRateLimiter(20, 0);
    for (let t = 0; t < 60_000; t += 50) expect(limiter.take(t)).toBe('allow');
  });
});
