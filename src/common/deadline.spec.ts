import { finishesWithin } from './deadline';

const after = <T>(ms: number, outcome: () => T): Promise<T> =>
  new Promise((resolve) => setTimeout(resolve, ms)).then(outcome);

describe('finishesWithin', () => {
  it.each([
    ['fulfils before the deadline', 10, () => 'done', true],
    ['fulfils after the deadline', 200, () => 'done', false],
    [
      'fails after the deadline',
      200,
      () => {
        throw new Error('late');
      },
      false,
    ],
  ])('%s: %s ms against 50 ms', async (_case, ms, outcome, expected) => {
    expect(await finishesWithin(after(ms, outcome), 50)).toBe(expected);
  });

  it('throws a failure that comes before the deadline', async () => {
    const failing = after(10, () => {
      throw new Error('refused');
    });
    await expect(finishesWithin(failing, 50)).rejects.toThrow('refused');
  });

  it('returns at the deadline, not when the work ends', async () => {
    const started = Date.now();
    await finishesWithin(
      after(600, () => 'slow'),
      50,
    );
    expect(Date.now() - started).toBeLessThan(400);
  });
});
