/**
 * A load generator process (started by LoadPool, pinned away from the server's core). Holds up
 * to MAX_SESSIONS_PER_WORKER sessions and answers each LoadCommand from the orchestrator once.
 */
import type { LoadCommand, LoadReply } from './load-messages';
import { SessionPool } from './session-pool';

const pool = new SessionPool();

function run(command: LoadCommand): unknown {
  switch (command.cmd) {
    case 'open':
      return pool.open(command);
    case 'ping':
      return pool.ping(command);
    case 'heartbeat':
      return pool.heartbeat(command);
    case 'await-welcomed':
      return pool.awaitWelcomed(command);
    case 'send-all':
      return pool.sendAll(command);
    case 'collect':
      return pool.collect(command);
    case 'close':
      return pool.close();
  }
}

process.on('message', (command: LoadCommand) => {
  Promise.resolve()
    .then(() => run(command))
    .then(
      (result: unknown): LoadReply => ({ ok: true, result: result ?? null }),
      (error: unknown): LoadReply => ({ ok: false, error: String(error) }),
    )
    .then((reply) => process.send!(reply))
    .catch(() => process.exit(1));
});
// The orchestrator going away must not leave sessions behind.
process.on('disconnect', () => process.exit(0));
