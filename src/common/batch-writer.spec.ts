import { Logger } from '@nestjs/common';
import { Metrics } from '../metrics/metrics';
import { expectEventually } from '../../test/support/expect-eventually';
import { BatchRow, BatchWriter, BatchWriterOptions, RefusedRow } from './batch-writer';

/** What PostgreSQL answers for a row it refuses (a CHECK, a trigger) and for an outage. */
function refusal(): Error {
  return Object.assign(new Error('new row violates check constraint "c" (quoting secret text)'), {
    code: '23514',
    constraint: 'c',
  });
}
function outage(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
}

/**
 * A store that records each write's rows, refuses any batch holding a key in `refused`, answers
 * `unavailableFor` writes with an outage, and holds each write until `release` while `holding`.
 */
class FakeStore<V> {
  readonly writes: BatchRow<V>[][] = [];
  readonly stored = new Map<string, V>();
  refused = new Set<string>();
  unavailableFor = 0;
  perRowRefusals = new Set<string>();
  holding = false;
  inFlight = 0;
  maxInFlight = 0;
  private releases: (() => void)[] = [];

  readonly write = async (batch: BatchRow<V>[]): Promise<RefusedRow[]> => {
    this.writes.push(batch);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.holding) await new Promise<void>((resolve) => this.releases.push(resolve));
      if (this.unavailableFor > 0) {
        this.unavailableFor--;
        throw outage();
      }
      if (batch.some(([key]) => this.refused.has(key))) throw refusal();
      const refusals = batch
        .filter(([key]) => this.perRowRefusals.has(key))
        .map(([key]) => ({ key, error: refusal() }));
      for (const [key, value] of batch)
        if (!this.perRowRefusals.has(key)) this.stored.set(key, value);
      return refusals;
    } finally {
      this.inFlight--;
    }
  };

  release(): void {
    this.holding = false;
    for (const release of this.releases.splice(0)) release();
  }

  keysOfWrites(): string[][] {
    return this.writes.map((batch) => batch.map(([key]) => key));
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function counterValue(
  metric: { get: () => Promise<{ values: { value: number; labels: object }[] }> },
  writer = 'test',
): Promise<number> {
  const { values } = await metric.get();
  return values.find((v) => (v.labels as { writer?: string }).writer === writer)?.value ?? 0;
}

describe('BatchWriter', () => {
  let metrics: Metrics;
  let store: FakeStore<number>;
  let errors: jest.SpyInstance;
  let warnings: jest.SpyInstance;
  const writers: BatchWriter<number>[] = [];

  function writer(options: Partial<BatchWriterOptions<number>> = {}): BatchWriter<number> {
    const created = new BatchWriter<number>(
      {
        name: 'test',
        keyField: 'rowId',
        write: store.write,
        retry: { afterMs: 20, warnEveryMs: 60_000 },
        closeDeadlineMs: 100,
        ...options,
      },
      metrics,
    );
    writers.push(created);
    return created;
  }

  beforeEach(() => {
    metrics = new Metrics();
    store = new FakeStore();
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    store.release();
    await Promise.all(writers.splice(0).map((w) => w.close()));
    jest.restoreAllMocks();
  });

  it('writes everything queued in one event-loop turn in one write', async () => {
    const w = writer();
    for (const key of ['a', 'b', 'c']) w.add(key, 1);
    expect(store.writes).toHaveLength(0); // not before the turn ends
    await expectEventually(() => expect(store.keysOfWrites()).toEqual([['a', 'b', 'c']]));
    expect(await counterValue(metrics.batchRowsWritten)).toBe(3);
  });

  it.each([
    {
      merge: undefined,
      values: [3, 1, 2],
      stored: 2,
      case: 'the newer row replaces the queued one',
    },
    {
      merge: (older: number, newer: number) => Math.max(older, newer),
      values: [3, 1, 2],
      stored: 3,
      case: 'a merge keeps what it chooses (an ack: the highest seq)',
    },
    {
      merge: (older: number, newer: number) => older + newer,
      values: [3, 1, 2],
      stored: 6,
      case: 'a merge adds up (delivery attempts)',
    },
  ])('$case', async ({ merge, values, stored }) => {
    const w = writer({ merge });
    for (const value of values) w.add('k', value);
    await w.flush();
    expect(store.writes).toHaveLength(1);
    expect(store.stored.get('k')).toBe(stored);
  });

  it('keeps one write in flight: rows queued meanwhile go together in the next one', async () => {
    const w = writer();
    store.holding = true;
    w.add('a', 1);
    await expectEventually(() => expect(store.writes).toHaveLength(1));
    for (const key of ['x', 'y', 'z']) w.add(key, 1);
    await nextTurn();
    await nextTurn();
    expect(store.writes).toHaveLength(1);
    expect(w.backlog).toBe(4);
    expect(await counterValue(metrics.batchRowsPending)).toBe(4);
    store.release();
    await expectEventually(() => expect(store.keysOfWrites()).toEqual([['a'], ['x', 'y', 'z']]));
    expect(store.maxInFlight).toBe(1);
    expect(w.backlog).toBe(0);
  });

  it('splits a long queue into writes of maxBatch rows, one turn apart', async () => {
    const events: string[] = [];
    const w = writer({
      maxBatch: 2,
      write: (batch) => {
        events.push(batch.map(([key]) => key).join(''));
        setImmediate(() => events.push('turn'));
        return store.write(batch);
      },
    });
    for (const key of ['a', 'b', 'c', 'd', 'e']) w.add(key, 1);
    await w.flush();
    expect(events.slice(0, 5)).toEqual(['ab', 'turn', 'cd', 'turn', 'e']);
  });

  it('gathers rows for delayMs, and addNow writes them at the end of the turn', async () => {
    const w = writer({ delayMs: 60_000 });
    w.add('a', 1);
    await nextTurn();
    await nextTurn();
    expect(store.writes).toHaveLength(0);
    w.addNow('b', 1);
    await expectEventually(() => expect(store.keysOfWrites()).toEqual([['a', 'b']]));
  });

  it('writes after delayMs without another call', async () => {
    const w = writer({ delayMs: 20 });
    w.add('a', 1);
    await expectEventually(() => expect(store.keysOfWrites()).toEqual([['a']]), {
      timeoutMs: 1_000,
    });
  });

  describe('a row the store refuses', () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    it.each([
      { refused: ['c'] },
      { refused: ['a', 'h'] },
      { refused: ['d', 'e'] },
      { refused: keys },
      { refused: [] },
    ])(
      'with $refused refused of 8: the others are stored, each refused one logged with its key, counted and dropped',
      async ({ refused }) => {
        const dropped: string[] = [];
        const written: string[] = [];
        const w = writer({
          dropped: (rows) => dropped.push(...rows.map(([key]) => key)),
          written: (rows) => written.push(...rows.map(([key]) => key)),
        });
        store.refused = new Set(refused);
        for (const key of keys) w.add(key, 1);
        await w.flush();
        const rest = keys.filter((key) => !refused.includes(key));
        expect([...store.stored.keys()].sort()).toEqual(rest);
        expect(written.sort()).toEqual(rest);
        expect(dropped.sort()).toEqual([...refused].sort());
        expect(await counterValue(metrics.batchRowsRefused)).toBe(refused.length);
        expect(await counterValue(metrics.batchRowsWritten)).toBe(rest.length);
        for (const key of refused) {
          expect(errors).toHaveBeenCalledWith(
            expect.objectContaining({ writer: 'test', rowId: key, code: '23514', constraint: 'c' }),
            expect.any(String),
          );
        }
        // The error's message (which can quote the row) is never logged.
        expect(JSON.stringify([errors.mock.calls, warnings.mock.calls])).not.toContain('secret');
        // Bisection, not one write per row: at most 2 × log2(8) writes per refused row, plus one.
        expect(store.writes.length).toBeLessThanOrEqual(1 + 2 * 3 * Math.max(1, refused.length));
        expect(w.backlog).toBe(0);
      },
    );

    it('later writes are not held back by it', async () => {
      const w = writer();
      store.refused = new Set(['bad']);
      w.add('bad', 1);
      w.add('good', 1);
      await w.flush();
      w.add('later', 1);
      await w.flush();
      expect([...store.stored.keys()]).toEqual(['good', 'later']);
    });

    it('is dropped without another write when the store reports it row by row', async () => {
      const w = writer();
      store.perRowRefusals = new Set(['b']);
      for (const key of ['a', 'b', 'c']) w.add(key, 1);
      await w.flush();
      expect(store.writes).toHaveLength(1);
      expect([...store.stored.keys()]).toEqual(['a', 'c']);
      expect(await counterValue(metrics.batchRowsRefused)).toBe(1);
      expect(errors).toHaveBeenCalledWith(
        expect.objectContaining({ rowId: 'b' }),
        expect.any(String),
      );
    });
  });

  describe('an unavailable store', () => {
    it('keeps the rows, merged with newer ones, retries them later and warns once per interval', async () => {
      const w = writer({ merge: (older, newer) => older + newer });
      store.unavailableFor = 3;
      w.add('a', 1);
      w.add('b', 1);
      await w.flush();
      expect(store.writes).toHaveLength(1);
      w.add('a', 5); // arrives while the first write is being retried
      await expectEventually(() => expect(store.stored.get('a')).toBe(6), { timeoutMs: 2_000 });
      expect(store.stored.get('b')).toBe(1);
      expect(store.writes).toHaveLength(4);
      expect(await counterValue(metrics.batchWriteRetries)).toBe(3);
      expect(warnings.mock.calls.filter(([, msg]) => /unavailable/.test(msg))).toHaveLength(1);
      expect(errors).not.toHaveBeenCalled();
    });

    it('met while isolating a refused row: the rows not yet written are kept, the refused one dropped once', async () => {
      store.refused = new Set(['c']);
      const write = store.write;
      let calls = 0;
      const flaky = async (batch: BatchRow<number>[]) => {
        calls++;
        if (calls === 3) throw outage(); // the second half of the first split
        return write(batch);
      };
      const isolating = writer({ write: flaky });
      for (const key of ['a', 'b', 'c', 'd']) isolating.add(key, 1);
      await expectEventually(() =>
        expect([...store.stored.keys()].sort()).toEqual(['a', 'b', 'd']),
      );
      expect(await counterValue(metrics.batchRowsRefused)).toBe(1);
      expect(await counterValue(metrics.batchWriteRetries)).toBe(1);
      expect(isolating.backlog).toBe(0);
    });

    it('with retry: null, hands the batch to `dropped` at once and writes the next one', async () => {
      const dropped: [string[], unknown][] = [];
      const w = writer({
        retry: null,
        maxBatch: 2,
        dropped: (rows, error) => dropped.push([rows.map(([key]) => key), error]),
      });
      store.unavailableFor = 1;
      for (const key of ['a', 'b', 'c']) w.add(key, 1);
      await w.flush();
      expect(dropped).toEqual([[['a', 'b'], expect.objectContaining({ code: 'ECONNREFUSED' })]]);
      expect([...store.stored.keys()]).toEqual(['c']);
      expect(await counterValue(metrics.batchRowsRefused)).toBe(0);
      expect(w.backlog).toBe(0);
    });

    it('flush writes at once, without waiting for the retry', async () => {
      const w = writer({ retry: { afterMs: 60_000, warnEveryMs: 60_000 } });
      store.unavailableFor = 1;
      w.add('a', 1);
      await w.flush();
      expect(store.stored.size).toBe(0);
      w.add('b', 1); // waits for the retry...
      await nextTurn();
      await nextTurn();
      expect(store.writes).toHaveLength(1);
      await w.flush(); // ...unless someone needs it written now
      expect([...store.stored.keys()]).toEqual(['a', 'b']);
    });
  });

  describe('close', () => {
    it('makes the last write', async () => {
      const w = writer({ delayMs: 60_000 });
      w.add('a', 1);
      await w.close();
      expect([...store.stored.keys()]).toEqual(['a']);
      expect(warnings).not.toHaveBeenCalled();
    });

    it('gives up on a store that does not answer within the deadline and says what it left', async () => {
      const w = writer({ closeDeadlineMs: 50 });
      store.holding = true;
      w.add('a', 1);
      await expectEventually(() => expect(store.writes).toHaveLength(1));
      w.add('b', 1);
      const started = Date.now();
      await w.close();
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(warnings).toHaveBeenCalledWith(
        expect.objectContaining({ writer: 'test', rows: 2, rowIds: ['a', 'b'] }),
        expect.stringMatching(/did not answer within 50 ms/),
      );
    });

    it('schedules no retry once closed', async () => {
      const w = writer({ retry: { afterMs: 10, warnEveryMs: 60_000 } });
      store.unavailableFor = 1;
      w.add('a', 1);
      await w.close();
      expect(warnings).toHaveBeenCalledWith(
        expect.objectContaining({ rows: 1, rowIds: ['a'] }),
        expect.stringMatching(/unavailable/),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(store.writes).toHaveLength(1);
    });
  });

  it('does not write rows again when a hook throws', async () => {
    const w = writer({
      written: () => {
        throw new TypeError('a bug in the hook');
      },
    });
    w.add('a', 1);
    await w.flush();
    expect(store.writes).toHaveLength(1);
    expect(w.backlog).toBe(0);
    expect(errors).toHaveBeenCalledTimes(1);
  });
});
