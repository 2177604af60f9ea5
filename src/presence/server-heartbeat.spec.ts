import { randomUUID } from 'node:crypto';
import { heartbeatSchedule, heartbeatSlotOf } from './server-heartbeat';

describe('heartbeatSchedule', () => {
  it.each([
    // interval, tick, slots: every session pinged once per tick × slots ≤ interval
    [30_000, 300, 100],
    [1_000, 10, 100],
    [250, 10, 25],
    [100, 10, 10],
    [15, 10, 1],
    [5, 5, 1],
    [1, 1, 1],
  ])('%i ms: a tick every %i ms, %i slots', (intervalMs, tickMs, slots) => {
    expect(heartbeatSchedule(intervalMs)).toEqual({ tickMs, slots });
  });
});

describe('heartbeatSlotOf', () => {
  it('puts every session in one slot, and spreads sessions evenly over the slots', () => {
    const perSlot = new Array<number>(100).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const slot = heartbeatSlotOf(randomUUID(), 100);
      expect(Number.isInteger(slot) && slot >= 0 && slot < 100).toBe(true);
      perSlot[slot]++;
    }
    // 200 per slot on average; a uniform spread stays well inside ±50 %.
    expect(Math.min(...perSlot)).toBeGreaterThan(100);
    expect(Math.max(...perSlot)).toBeLessThan(300);
  });

  it('gives a session the same slot every time', () => {
    const sessionId = randomUUID();
    expect(heartbeatSlotOf(sessionId, 37)).toBe(heartbeatSlotOf(sessionId, 37));
  });
});
