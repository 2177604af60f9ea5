import type { LoggerService } from '@nestjs/common';

/** What orchestrators (SIGTERM) and a terminal (SIGINT) send to stop the service. */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Bounds the graceful shutdown that Nest's hooks run on a stop signal: if it has not ended
 * `timeoutMs` after the signal (a database that hangs rather than refuses, a peer that never
 * answers), the process exits with code 1. Whatever was unfinished is taken over by the next
 * start: jobs when their lease expires, sessions left open in the audit are closed `lost`, and
 * notifications whose ack was not written are replayed and acknowledged again.
 *
 * `once`: Nest re-raises the signal when its shutdown completes, to end the process the way the
 * signal would; a listener still attached would swallow it.
 */
export function exitWhenShutdownOverruns(timeoutMs: number, logger: LoggerService): void {
  for (const signal of STOP_SIGNALS) {
    process.once(signal, () => {
      setTimeout(() => {
        logger.error(
          `shutdown not finished within SHUTDOWN_TIMEOUT_MS (${timeoutMs} ms); exiting, unfinished work is left to the next start`,
        );
        process.exit(1);
      }, timeoutMs).unref();
    });
  }
}
