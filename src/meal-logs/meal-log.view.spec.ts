import { mealLogEtag } from './meal-log.view';

describe('mealLogEtag', () => {
  it.each<
    [string, { status: 'processing' | 'completed' | 'failed'; completedAt: string | null }, string]
  >([
    ['processing', { status: 'processing', completedAt: null }, 'W/"processing-0"'],
    [
      'completed',
      { status: 'completed', completedAt: '2026-12-05T10:00:00.000Z' },
      'W/"completed-1796464800000"',
    ],
    [
      'failed',
      { status: 'failed', completedAt: '2026-12-05T10:00:00.000Z' },
      'W/"failed-1796464800000"',
    ],
  ])('%s', (_case, log, etag) => {
    expect(mealLogEtag(log)).toBe(etag);
  });
});
