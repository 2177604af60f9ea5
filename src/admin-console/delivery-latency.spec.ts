import { latencyBetween } from './delivery-latency';

const bounds = [1, 5, 20, 100];

describe('latencyBetween', () => {
  it.each([
    {
      name: 'nothing delivered',
      before: [0, 0, 0, 0],
      after: [0, 0, 0, 0],
      total: { before: 0, after: 0 },
      expected: { deliveries: 0, p50Ms: null, p95Ms: null },
    },
    {
      name: 'all in one bucket',
      before: [0, 0, 0, 0],
      after: [0, 10, 10, 10],
      total: { before: 0, after: 10 },
      expected: { deliveries: 10, p50Ms: 5, p95Ms: 5 },
    },
    {
      name: 'only the interval counts, not what came before it',
      before: [0, 100, 100, 100],
      after: [0, 100, 110, 120],
      total: { before: 100, after: 120 },
      expected: { deliveries: 20, p50Ms: 20, p95Ms: 100 },
    },
    {
      name: 'a tail beyond the largest bound has no bound',
      before: [0, 0, 0, 0],
      after: [5, 5, 5, 5],
      total: { before: 0, after: 10 },
      expected: { deliveries: 10, p50Ms: 1, p95Ms: null },
    },
    {
      name: 'a reset counts from zero',
      before: [50, 50, 50, 50],
      after: [2, 4, 4, 4],
      total: { before: 50, after: 4 },
      expected: { deliveries: 4, p50Ms: 1, p95Ms: 5 },
    },
  ])('$name', ({ before, after, total, expected }) => {
    expect(latencyBetween(bounds, before, after, total)).toEqual(expected);
  });
});
