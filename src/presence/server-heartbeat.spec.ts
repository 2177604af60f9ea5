import { SESSION_SHARDS } from './local-sessions';
import { shardsOfSlot } from './local-sessions';
import { heartbeatSchedule } from './server-heartbeat';

describe('heartbeatSchedule', () => {
  it.each([
    // interval, tick, slots: every session pinged once per tick × slots ≤ interval
    [30_000, 30, 1_000],
    [1_000, 10, 100],
    [12_345, 12, 1_028],
    [250, 10, 25],
    [100, 10, 10],
    [15, 10, 1],
    [5, 5, 1],
    [1, 1, 1],
  ])('%i ms: a tick every %i ms, %i slots', (intervalMs, tickMs, slots) => {
    expect(heartbeatSchedule(intervalMs)).toEqual({ tickMs, slots });
  });
});

describe('shardsOfSlot', () => {
  it.each([1_000, 1_028, 100, 37, 25, 10, 1])(
    '%i slots: every shard pinged in exactly one slot',
    (slots) => {
      const pinged = Array.from({ length: slots }, (_, slot) => shardsOfSlot(slot, slots)).flat();
      expect(pinged.sort((x, y) => x - y)).toEqual([...Array(SESSION_SHARDS).keys()]);
    },
  );
});
