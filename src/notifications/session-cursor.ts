/** What to do with a notification that arrived for a session (see `SessionCursor.arrive`). */
export type Arrival = 'write' | 'skip' | 'wait' | 'read';

/**
 * What one session has been sent of its user's notifications, so that it receives them in seq
 * order with no gaps whichever instance created them and in whatever order they arrive. A
 * notification is written only right after the one before it (`seq - 1`); one that arrives
 * further ahead waits while the session reads what lies between from the outbox. Seqs have no
 * holes per user (each statement takes the next ones under the user's sequence row lock, and a
 * notification commits before any later one is numbered), so "between" is always known, and
 * always committed by the time a later one arrives.
 *
 * Pure bookkeeping: the WebSocket channel does the reading and the writing.
 */
export class SessionCursor<T extends { readonly seq: number }> {
  /**
   * The highest seq written to the session. Everything at or below it was written, or was
   * acknowledged before the session opened (replay sends only what is not), or was pruned.
   */
  private sent = 0;
  /** While true, the session is reading the outbox (its replay on open, or a gap); arrivals wait. */
  private reading = true;
  private readonly waiting = new Map<number, T>();

  get lastSentSeq(): number {
    return this.sent;
  }

  get isReading(): boolean {
    return this.reading;
  }

  /**
   * A notification for the session. `write`: write it now (it counts as sent); `skip`: the session
   * has it already; `wait`: it waits for the read in progress; `read`: some lower seqs were never
   * sent, so it waits while the caller reads the outbox after `lastSentSeq` and before it, then
   * calls `readDone`.
   */
  arrive(item: T): Arrival {
    if (item.seq <= this.sent) return 'skip';
    if (this.reading) {
      this.waiting.set(item.seq, item);
      return 'wait';
    }
    if (item.seq === this.sent + 1) {
      this.sent = item.seq;
      return 'write';
    }
    this.waiting.set(item.seq, item);
    this.reading = true;
    return 'read';
  }

  /** The caller wrote `seq`, read from the outbox, to the session. */
  wrote(seq: number): void {
    if (seq > this.sent) this.sent = seq;
  }

  /**
   * The read is over: every notification up to `through` that the outbox held has been written.
   * Returns what waited and goes now, in order (it counts as sent); and, if a gap remains before
   * the rest, the seq to read up to (the cursor stays reading until a `readDone` clears it).
   */
  readDone(through: number): { write: T[]; readBefore: number | null } {
    this.sent = Math.max(this.sent, through);
    const write: T[] = [];
    for (const seq of [...this.waiting.keys()].sort((a, b) => a - b)) {
      if (seq > this.sent + 1) return { write, readBefore: seq };
      if (seq === this.sent + 1) {
        write.push(this.waiting.get(seq)!);
        this.sent = seq;
      }
      this.waiting.delete(seq);
    }
    this.reading = false;
    return { write, readBefore: null };
  }
}
