import { Arrival, SessionCursor } from './session-cursor';

const n = (seq: number) => ({ seq });

/** A cursor whose opening replay ended at `through`, as a live session's is. */
function openAt(through: number): SessionCursor<{ seq: number }> {
  const cursor = new SessionCursor<{ seq: number }>();
  expect(cursor.readDone(through)).toEqual({ write: [], readBefore: null });
  return cursor;
}

describe('SessionCursor', () => {
  it('holds every arrival while the opening replay runs', () => {
    const cursor = new SessionCursor<{ seq: number }>();
    expect(cursor.isReading).toBe(true);
    expect(cursor.arrive(n(7))).toBe('wait');
    expect(cursor.arrive(n(6))).toBe('wait');
  });

  it.each<[string, number, number[], Arrival[], number]>([
    ['the next seq is written', 5, [6], ['write'], 6],
    ['a run of next seqs is written one by one', 5, [6, 7, 8], ['write', 'write', 'write'], 8],
    ['what was sent already is skipped', 5, [5, 3], ['skip', 'skip'], 5],
    ['a duplicate of the last one is skipped', 5, [6, 6], ['write', 'skip'], 6],
    ['one ahead of a gap starts a read', 5, [8], ['read'], 5],
    ['arrivals during that read wait', 5, [8, 9, 6], ['read', 'wait', 'wait'], 5],
  ])('%s', (_case, through, seqs, expected, lastSentSeq) => {
    const cursor = openAt(through);
    expect(seqs.map((seq) => cursor.arrive(n(seq)))).toEqual(expected);
    expect(cursor.lastSentSeq).toBe(lastSentSeq);
  });

  it.each<[string, number, number[], number, number[], number | null, number]>([
    ['nothing waited', 0, [], 4, [], null, 4],
    ['what waited follows the replay in seq order', 0, [9, 6, 7, 8], 5, [6, 7, 8, 9], null, 9],
    ['what the replay already wrote is dropped', 0, [3, 4, 6], 5, [6], null, 6],
    ['a gap after the replay means another read', 0, [6, 9, 10], 5, [6], 9, 6],
    ['a duplicate arrival goes once', 0, [6, 6], 5, [6], null, 6],
  ])('after a read: %s', (_case, _start, waiting, through, written, readBefore, lastSentSeq) => {
    const cursor = new SessionCursor<{ seq: number }>();
    for (const seq of waiting) cursor.arrive(n(seq));
    const done = cursor.readDone(through);
    expect(done.write.map((item) => item.seq)).toEqual(written);
    expect(done.readBefore).toBe(readBefore);
    expect(cursor.lastSentSeq).toBe(lastSentSeq);
    expect(cursor.isReading).toBe(readBefore !== null);
  });

  it('fills a gap: reads what lies between, then sends what waited', () => {
    const cursor = openAt(5);
    expect(cursor.arrive(n(8))).toBe('read');
    // The outbox had 6 and 7 (written by the caller as it reads them).
    cursor.wrote(6);
    cursor.wrote(7);
    expect(cursor.arrive(n(9))).toBe('wait');
    const done = cursor.readDone(7);
    expect(done.write.map((item) => item.seq)).toEqual([8, 9]);
    expect(done.readBefore).toBeNull();
    expect(cursor.arrive(n(10))).toBe('write');
  });

  it('treats seqs missing from the outbox (pruned) as read through the gap', () => {
    const cursor = openAt(5);
    expect(cursor.arrive(n(8))).toBe('read');
    const done = cursor.readDone(7);
    expect(done.write.map((item) => item.seq)).toEqual([8]);
    expect(cursor.lastSentSeq).toBe(8);
  });

  it('never moves back when a read ends below what was written', () => {
    const cursor = openAt(5);
    cursor.arrive(n(9));
    cursor.wrote(8);
    expect(cursor.readDone(3)).toEqual({ write: [{ seq: 9 }], readBefore: null });
    expect(cursor.lastSentSeq).toBe(9);
  });
});
