import { BatchReader } from './batch-reader';

/** A store whose queries the test lets finish one by one. */
function heldStore() {
  const queries: { requests: number[]; finish: (error?: Error) => void }[] = [];
  const readMany = (requests: number[]) =>
    new Promise<string[]>((resolve, reject) =>
      queries.push({
        requests,
        finish: (error) => (error ? reject(error) : resolve(requests.map((n) => `answer ${n}`))),
      }),
    );
  return { queries, readMany };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchReader', () => {
  it('reads what is asked in one turn in one query, and answers each caller its own', async () => {
    const store = heldStore();
    const reader = new BatchReader(store.readMany, 100);
    const answers = Promise.all([1, 2, 3].map((n) => reader.read(n)));
    await nextTurn();

    expect(store.queries.map((q) => q.requests)).toEqual([[1, 2, 3]]);
    store.queries[0].finish();
    expect(await answers).toEqual(['answer 1', 'answer 2', 'answer 3']);
  });

  it('keeps one query in flight; what is asked meanwhile goes in the next, at most maxBatch each', async () => {
    const store = heldStore();
    const reader = new BatchReader(store.readMany, 2);
    const first = reader.read(1);
    await nextTurn();
    const later = [2, 3, 4].map((n) => reader.read(n));
    await nextTurn();
    expect(store.queries.map((q) => q.requests)).toEqual([[1]]);

    store.queries[0].finish();
    expect(await first).toBe('answer 1');
    expect(store.queries.map((q) => q.requests)).toEqual([[1], [2, 3]]);
    store.queries[1].finish();
    await nextTurn();
    expect(store.queries.map((q) => q.requests)).toEqual([[1], [2, 3], [4]]);
    store.queries[2].finish();
    expect(await Promise.all(later)).toEqual(['answer 2', 'answer 3', 'answer 4']);
  });

  it('rejects the requests of a failed query only, and reads again afterwards', async () => {
    const store = heldStore();
    const reader = new BatchReader(store.readMany, 100);
    const failed = reader.read(1);
    await nextTurn();
    store.queries[0].finish(new Error('connection lost'));
    await expect(failed).rejects.toThrow('connection lost');

    const retried = reader.read(1);
    await nextTurn();
    store.queries[1].finish();
    expect(await retried).toBe('answer 1');
  });
});
