import { Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import type { Metrics } from '../metrics/metrics';
import { errorFields } from '../logging/safe-error';
import { isDatabaseUnavailable } from './database-unavailable';
import { nextTurn } from './next-turn';

/** How long `close` waits for the last write before it gives up and says what it left. */
export const CLOSE_DEADLINE_MS = 5_000;

/** One queued row: its key (a session, user, notification or meal log id) and what to write. */
export type BatchRow<V> = [key: string, value: V];

/** A row the store refused while it stored the rest of its batch (a Redis pipeline does that). */
export interface RefusedRow {
  key: string;
  error: unknown;
}

export interface BatchWriterOptions<V> {
  /** Names the writer in metrics (the `writer` label) and log lines. */
  name: string;
  /** The log field a row's key is written to: `sessionId`, `userId`, ... */
  keyField: string;
  /**
   * Stores one batch. Throws when none of it was stored; may instead return the rows that the
   * store refused one by one while it stored the others. Work that follows a successful commit
   * must not throw from here: a throw makes the rows be written again.
   */
  write: (batch: BatchRow<V>[]) => Promise<RefusedRow[] | void>;
  /** What a row queued again under a key still queued becomes; by default the newer one. */
  merge?: (older: V, newer: V) => V;
  /** Rows per write: a longer queue goes in several writes, each an event-loop turn apart. */
  maxBatch?: number;
  /** How long `add` gathers rows before writing (0, the default: the rest of this turn). */
  delayMs?: number;
  /** An error that means the store cannot be reached (by default PostgreSQL's outage errors). */
  isUnavailable?: (error: unknown) => boolean;
  /**
   * A batch the store could not be reached for is kept and retried after `afterMs`, with at most
   * one warning per `warnEveryMs`; `null`: it is dropped at once (its callers retry on their own).
   */
  retry: { afterMs: number; warnEveryMs: number } | null;
  /** Rows just stored. */
  written?: (rows: BatchRow<V>[]) => void;
  /** Rows given up: refused by the store, or met an outage with `retry: null`. */
  dropped?: (rows: BatchRow<V>[], error: unknown) => void;
  /** `close`'s wait for the last write (CLOSE_DEADLINE_MS by default). */
  closeDeadlineMs?: number;
}

/**
 * Writes rows in batches so that no caller pays a round trip of its own, and so that one row the
 * store refuses stops nothing else:
 *
 * - rows are queued by key, a newer row for a queued key merged into it (`merge`);
 * - everything queued in one event-loop turn (or within `delayMs`) goes in one write, and one
 *   write is in flight at a time: rows arriving meanwhile go together in the next (group commit);
 * - a write the store cannot take for now (outage) keeps its rows, merged with newer ones, and is
 *   retried later, with one warning per interval rather than per try;
 * - a write the store refuses for any other reason is split in halves until the refused rows are
 *   alone: the others are stored, each refused one is logged with its key, counted and dropped;
 * - `close` makes a last write and gives up after a deadline, saying what it left.
 */
export class BatchWriter<V> {
  private readonly logger = new Logger(BatchWriter.name);
  private readonly merge: (older: V, newer: V) => V;
  private readonly isUnavailable: (error: unknown) => boolean;
  private readonly writtenRows: Counter.Internal;
  private readonly refusedRows: Counter.Internal;
  private readonly retries: Counter.Internal;
  private queue = new Map<string, V>();
  /** Rows of the write in progress not yet stored, refused or put back. */
  private unsettled = new Map<string, V>();
  private draining: Promise<void> | null = null;
  private followUp: Promise<void> | null = null;
  /** The write scheduled for the end of this event-loop turn. */
  private turn: NodeJS.Immediate | null = null;
  /** The gathering delay's timer, or the retry's while `backingOff`. */
  private timer: NodeJS.Timeout | null = null;
  private backingOff = false;
  private closed = false;
  private lastWarningAt = -Infinity;

  constructor(
    private readonly options: BatchWriterOptions<V>,
    metrics: Metrics,
  ) {
    this.merge = options.merge ?? ((_older, newer) => newer);
    this.isUnavailable = options.isUnavailable ?? isDatabaseUnavailable;
    const writer = { writer: options.name };
    this.writtenRows = metrics.batchRowsWritten.labels(writer);
    this.refusedRows = metrics.batchRowsRefused.labels(writer);
    this.retries = metrics.batchWriteRetries.labels(writer);
    metrics.trackBatchWriter(options.name, () => this.backlog);
  }

  /** Rows not stored yet: queued, or in the write in progress. */
  get backlog(): number {
    return this.queue.size + this.unsettled.size;
  }

  /** Queues a row for the next write, after the writer's gathering delay. */
  add(key: string, value: V): void {
    this.enqueue(key, value);
    this.schedule(this.options.delayMs ?? 0);
  }

  /** Queues a row for a write at the end of this event-loop turn, whatever the writer's delay. */
  addNow(key: string, value: V): void {
    this.enqueue(key, value);
    this.schedule(0);
  }

  /**
   * Writes everything queued now (also during a retry's back-off) and resolves once it is stored,
   * refused or kept for a retry; never rejects. Callers arriving while a write runs share one
   * follow-up write: in a reconnect storm thousands ask, and a write each would be quadratic.
   */
  flush(): Promise<void> {
    if (!this.draining) {
      this.draining = this.drain().finally(() => (this.draining = null));
      return this.draining;
    }
    this.followUp ??= this.draining.then(() => {
      this.followUp = null;
      return this.flush();
    });
    return this.followUp;
  }

  /**
   * The last write, at shutdown: no retry is scheduled any more, and a store that does not answer
   * within the deadline is given up on (the caller's shutdown must not hang with it).
   */
  async close(): Promise<void> {
    this.closed = true;
    const deadlineMs = this.options.closeDeadlineMs ?? CLOSE_DEADLINE_MS;
    let deadline: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      deadline = setTimeout(() => resolve('late'), deadlineMs);
    });
    const outcome = await Promise.race([this.flush().then(() => 'done' as const), late]);
    clearTimeout(deadline);
    if (this.backlog === 0) return;
    const left = [...this.unsettled.keys(), ...this.queue.keys()];
    this.logger.warn(
      {
        writer: this.options.name,
        rows: left.length,
        [`${this.options.keyField}s`]: left.slice(0, 20),
      },
      outcome === 'late'
        ? `${left.length} row(s) not written: the store did not answer within ${deadlineMs} ms of shutdown`
        : `${left.length} row(s) not written before shutdown: the store is unavailable`,
    );
  }

  private enqueue(key: string, value: V): void {
    const queued = this.queue.get(key);
    this.queue.set(key, queued === undefined ? value : this.merge(queued, value));
  }

  private schedule(delayMs: number): void {
    if (this.backingOff) return; // the retry writes these rows too
    if (delayMs > 0) {
      this.timer ??= setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, delayMs).unref();
      return;
    }
    this.turn ??= setImmediate(() => {
      this.turn = null;
      void this.flush();
    });
  }

  /** Cancels the scheduled writes and any back-off: the caller writes what they were for. */
  private unschedule(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.turn) clearImmediate(this.turn);
    this.timer = null;
    this.turn = null;
    this.backingOff = false;
  }

  /** Writes what is queued, `maxBatch` rows at a time. */
  private async drain(): Promise<void> {
    if (this.queue.size === 0) return;
    this.unschedule();
    this.unsettled = this.queue;
    this.queue = new Map();
    const rows = [...this.unsettled];
    const maxBatch = this.options.maxBatch ?? rows.length;
    for (let start = 0; start < rows.length; start += maxBatch) {
      if (start > 0) await nextTurn();
      const outage = await this.writeIsolating(rows.slice(start, start + maxBatch));
      if (!outage) continue;
      if (this.options.retry === null) {
        this.drop(outage.rows, outage.error);
        continue;
      }
      this.putBack([...outage.rows, ...rows.slice(start + maxBatch)]);
      this.retryLater(outage.error);
      return;
    }
  }

  /**
   * Writes `batch`; if the store refuses it, writes its halves, and theirs, until each refused
   * row is alone. Returns the rows left unwritten when the store turned out to be unavailable.
   */
  private async writeIsolating(
    batch: BatchRow<V>[],
  ): Promise<{ rows: BatchRow<V>[]; error: unknown } | null> {
    const parts = [batch];
    for (let part = parts.shift(); part; part = parts.shift()) {
      let refused: RefusedRow[] | void;
      try {
        refused = await this.options.write(part);
      } catch (error) {
        if (this.isUnavailable(error)) return { rows: [...part, ...parts.flat()], error };
        if (part.length === 1) {
          this.refuse(part[0], error);
          continue;
        }
        if (part === batch) {
          this.logger.warn(
            { writer: this.options.name, rows: part.length, ...errorFields(error) },
            'a batch was refused; writing it in halves to find the refused row(s)',
          );
        }
        const half = Math.ceil(part.length / 2);
        parts.unshift(part.slice(0, half), part.slice(half));
        continue;
      }
      this.stored(part, refused ?? []);
    }
    return null;
  }

  private stored(part: BatchRow<V>[], refusals: RefusedRow[]): void {
    const refused = new Map(refusals.map(({ key, error }) => [key, error]));
    const written = refused.size === 0 ? part : part.filter(([key]) => !refused.has(key));
    for (const [key] of written) this.unsettled.delete(key);
    this.writtenRows.inc(written.length);
    this.safely(() => this.options.written?.(written));
    for (const row of part) if (refused.has(row[0])) this.refuse(row, refused.get(row[0]));
  }

  private refuse(row: BatchRow<V>, error: unknown): void {
    this.unsettled.delete(row[0]);
    this.refusedRows.inc();
    this.logger.error(
      { writer: this.options.name, [this.options.keyField]: row[0], ...errorFields(error) },
      'the store refused a row; it is dropped',
    );
    this.safely(() => this.options.dropped?.([row], error));
  }

  private drop(rows: BatchRow<V>[], error: unknown): void {
    for (const [key] of rows) this.unsettled.delete(key);
    this.safely(() => this.options.dropped?.(rows, error));
  }

  /** Unwritten rows back in the queue, ahead of and merged with the rows queued since. */
  private putBack(rows: BatchRow<V>[]): void {
    const queue = new Map(rows);
    for (const [key, newer] of this.queue) {
      const older = queue.get(key);
      queue.set(key, older === undefined ? newer : this.merge(older, newer));
    }
    this.queue = queue;
    this.unsettled = new Map();
  }

  private retryLater(error: unknown): void {
    this.retries.inc();
    if (this.closed || this.options.retry === null) return;
    const { afterMs, warnEveryMs } = this.options.retry;
    const now = Date.now();
    if (now - this.lastWarningAt >= warnEveryMs) {
      this.lastWarningAt = now;
      this.logger.warn(
        { writer: this.options.name, rows: this.backlog, ...errorFields(error) },
        `store unavailable; ${this.backlog} row(s) kept, retried every ${afterMs} ms`,
      );
    }
    this.backingOff = true;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.backingOff = false;
      void this.flush();
    }, afterMs).unref();
  }

  /** Runs a writer's hook; a hook that throws must not make stored rows be written again. */
  private safely(hook: () => void): void {
    try {
      hook();
    } catch (error) {
      this.logger.error({ writer: this.options.name, err: error }, 'a batch writer hook failed');
    }
  }
}
