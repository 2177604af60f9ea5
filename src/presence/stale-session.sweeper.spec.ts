import { sweepTurn } from './stale-session.sweeper';

describe('sweepTurn', () => {
  it.each([
    // turn, slots, found, ended, ends per turn → plan
    { turn: 0, slots: 3, found: 0, ended: 0, per: 10, plan: { endTo: 0, slot: 0 } },
    { turn: 1, slots: 3, found: 4, ended: 0, per: 10, plan: { endTo: 4, slot: 1 } },
    { turn: 1, slots: 3, found: 25, ended: 0, per: 10, plan: { endTo: 10, slot: 1 } },
    { turn: 2, slots: 3, found: 25, ended: 10, per: 10, plan: { endTo: 20, slot: 2 } },
    // every slot looked at: the turns go on while found sessions wait to be ended
    { turn: 3, slots: 3, found: 25, ended: 20, per: 10, plan: { endTo: 25, slot: null } },
    { turn: 3, slots: 3, found: 25, ended: 25, per: 10, plan: null },
    { turn: 3, slots: 3, found: 0, ended: 0, per: 10, plan: null },
  ])(
    'turn $turn of $slots slots, $ended of $found ended, $per per turn → $plan',
    ({ turn, slots, found, ended, per, plan }) => {
      expect(sweepTurn(turn, slots, found, ended, per)).toEqual(plan);
    },
  );

  it.each([
    { slots: 50, stale: 0, per: 10 },
    { slots: 50, stale: 1_900, per: 10 },
    { slots: 5, stale: 7, per: 3 },
  ])(
    'a sweep of $slots slots finding $stale stale, ending $per per turn, looks at every slot once and ends each found session once',
    ({ slots, stale, per }) => {
      // The stale sessions spread evenly over the slots; each turn looks after it ends.
      const staleIn = (slot: number) =>
        Math.floor(((slot + 1) * stale) / slots) - Math.floor((slot * stale) / slots);
      const looked: number[] = [];
      let found = 0;
      let ended = 0;
      for (let turn = 0; ; turn++) {
        const plan = sweepTurn(turn, slots, found, ended, per);
        if (plan === null) break;
        expect(plan.endTo - ended).toBeLessThanOrEqual(per);
        ended = plan.endTo;
        if (plan.slot !== null) {
          looked.push(plan.slot);
          found += staleIn(plan.slot);
        }
      }
      expect(looked).toEqual(Array.from({ length: slots }, (_, slot) => slot));
      expect(ended).toBe(stale);
    },
  );
});
