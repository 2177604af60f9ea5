import { SESSION_SHARDS } from './local-sessions';
import { shardsOfSlot } from './local-sessions';
import { heartbeatSchedule, slotsDue } from './server-heartbeat';

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

describe('slotsDue', () => {
  it.each([
    // done turns, due turns, slots, slots pinged
    [0, 0, 10, []],
    [0, 1, 10, [0]],
    [4, 5, 10, [4]],
    [9, 10, 10, [9]],
    [10, 11, 10, [0]],
    // ticks that ran late catch up on the turns they missed, in order
    [3, 7, 10, [3, 4, 5, 6]],
    [8, 12, 10, [8, 9, 0, 1]],
    // more than a round late: each slot once, the oldest turns first
    [2, 30, 10, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
    [0, 3, 1, [0]],
    // a tick early, or twice in the same turn: nothing more
    [5, 5, 10, []],
    [6, 5, 10, []],
  ])('done %i, due %i, %i slots: %j', (doneTurns, dueTurns, slots, due) => {
    expect(slotsDue(doneTurns, dueTurns, slots)).toEqual(due);
  });

  it('pings every slot once per round of turns, whatever the ticks', () => {
    const slots = 25;
    const pinged = new Array<number>(slots).fill(0);
    let done = 0;
    for (const due of [1, 2, 9, 10, 11, 24, 25, 40, 50]) {
      for (const slot of slotsDue(done, due, slots)) pinged[slot]++;
      done = due;
    }
    expect(pinged).toEqual(new Array<number>(slots).fill(2));
  });
});
