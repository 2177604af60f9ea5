import { highestRateUnder, keptUp, nearestRate, sweepGivesUp } from './rate-sweep';

const step = (rate: number, p99: number, kept = true) => ({ rate, p99, keptUp: kept });

describe('highestRateUnder', () => {
  it.each([
    {
      name: 'every rate under',
      steps: [step(100, 10), step(250, 20), step(500, 90)],
      highest: 500,
    },
    {
      name: 'the last before the first over',
      steps: [step(100, 10), step(250, 20), step(500, 140)],
      highest: 250,
    },
    { name: 'at the threshold is not under', steps: [step(100, 10), step(250, 100)], highest: 100 },
    { name: 'the lowest already over', steps: [step(100, 120), step(250, 20)], highest: 0 },
    {
      name: 'a rate under above one over does not count',
      steps: [step(100, 10), step(250, 300), step(500, 50)],
      highest: 100,
    },
    {
      name: 'a rate that did not keep up ends it',
      steps: [step(100, 10), step(250, 20, false), step(500, 30)],
      highest: 100,
    },
    {
      name: 'no latency measured (NaN) ends it',
      steps: [step(100, 10), step(250, Number.NaN)],
      highest: 100,
    },
    {
      name: 'steps out of order are taken by rate',
      steps: [step(500, 150), step(100, 10), step(250, 20)],
      highest: 250,
    },
    { name: 'a sweep cut short', steps: [step(100, 10)], highest: 100 },
    { name: 'no steps', steps: [], highest: 0 },
  ])('$name: $highest', ({ steps, highest }) => {
    expect(highestRateUnder(steps, 100)).toBe(highest);
  });
});

describe('keptUp', () => {
  it.each([
    { rate: 500, completions: 499, lost: 0, kept: true },
    { rate: 500, completions: 475, lost: 0, kept: true },
    { rate: 500, completions: 474, lost: 0, kept: false },
    { rate: 500, completions: 500, lost: 1, kept: false },
  ])('$completions/s of $rate/s with $lost lost: $kept', ({ rate, completions, lost, kept }) => {
    expect(keptUp(rate, completions, lost)).toBe(kept);
  });
});

describe('sweepGivesUp', () => {
  it.each([
    { p99: 999, gives: false },
    { p99: 1000, gives: false },
    { p99: 1001, gives: true },
    { p99: Number.NaN, gives: true },
  ])('p99 $p99 ms against 1,000 ms: $gives', ({ p99, gives }) => {
    expect(sweepGivesUp(step(500, p99), 1000)).toBe(gives);
  });
});

describe('nearestRate', () => {
  it.each([
    { rates: [100, 250, 500, 750, 1000], nearest: 500 },
    { rates: [50], nearest: 50 },
    { rates: [1000, 100], nearest: 100 },
    { rates: [250, 750], nearest: 250 },
    { rates: [], nearest: Number.NaN },
  ])('of $rates: $nearest', ({ rates, nearest }) => {
    expect(nearestRate(rates, 500)).toBe(nearest);
  });
});
