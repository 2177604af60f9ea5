import { Client } from 'pg';

/** Notification ids received, per user id of the receiving client (deduplicated by id). */
export type Received = ReadonlyMap<string, Iterable<string>>;

export interface LedgerReport {
  users: number;
  committed: number;
  received: number;
  /** Committed in PostgreSQL, never received by any client of its user. */
  missing: { userId: string; id: string }[];
  /** Received by a client of `receiver`, but the notification belongs to `owner`. */
  foreign: { receiver: string; owner: string; id: string }[];
  /** Received, but no such notification was ever committed. */
  phantom: { receiver: string; id: string }[];
}

/**
 * The ledger check: for every user, the notifications committed in PostgreSQL are exactly the
 * ones the user's clients received, and no client received another user's notification. Users
 * are those with committed notifications (optionally only ids starting with `userPrefix`, for a
 * database shared with other runs) plus every receiving user.
 */
export async function checkLedger(
  databaseUrl: string,
  received: Received,
  { userPrefix = '' }: { userPrefix?: string } = {},
): Promise<LedgerReport> {
  const receivedByUser = new Map([...received].map(([userId, ids]) => [userId, new Set(ids)]));
  const receivedIds = [...new Set([...receivedByUser.values()].flatMap((ids) => [...ids]))];
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  let committed: { id: string; user_id: string }[];
  let owners: { id: string; user_id: string }[];
  try {
    committed = (
      await client.query<{ id: string; user_id: string }>(
        `SELECT id, user_id FROM notifications WHERE starts_with(user_id, $1)`,
        [userPrefix],
      )
    ).rows;
    owners = (
      await client.query<{ id: string; user_id: string }>(
        `SELECT id, user_id FROM notifications WHERE id = ANY($1::uuid[])`,
        [receivedIds],
      )
    ).rows;
  } finally {
    await client.end();
  }
  const ownerOf = new Map(owners.map((row) => [row.id, row.user_id]));
  const report: LedgerReport = {
    users: new Set([...committed.map((row) => row.user_id), ...receivedByUser.keys()]).size,
    committed: committed.length,
    received: [...receivedByUser.values()].reduce((sum, ids) => sum + ids.size, 0),
    missing: [],
    foreign: [],
    phantom: [],
  };
  for (const { id, user_id: userId } of committed) {
    if (!receivedByUser.get(userId)?.has(id)) report.missing.push({ userId, id });
  }
  for (const [receiver, ids] of receivedByUser) {
    for (const id of ids) {
      const owner = ownerOf.get(id);
      if (owner === undefined) report.phantom.push({ receiver, id });
      else if (owner !== receiver) report.foreign.push({ receiver, owner, id });
    }
  }
  return report;
}

export function ledgerBalanced(report: LedgerReport): boolean {
  return report.missing.length + report.foreign.length + report.phantom.length === 0;
}
