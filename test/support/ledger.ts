import { checkLedger, LedgerReport, Received } from '../../tools/ledger/ledger-check';
import type { Frame } from './ws-client';

export { checkLedger, ledgerBalanced } from '../../tools/ledger/ledger-check';
export type { LedgerReport, Received } from '../../tools/ledger/ledger-check';

/** Jest assertion with a readable diff: every list of discrepancies must be empty. */
export async function expectLedgerBalanced(
  databaseUrl: string,
  received: Received,
  options?: { userPrefix?: string },
): Promise<LedgerReport> {
  const report = await checkLedger(databaseUrl, received, options);
  expect({ missing: report.missing, foreign: report.foreign, phantom: report.phantom }).toEqual({
    missing: [],
    foreign: [],
    phantom: [],
  });
  return report;
}

/** What recording test clients received, grouped by the user each client authenticated as. */
export function receivedByClients(
  clients: readonly { userId: string; frames: readonly Frame[] }[],
): Map<string, Set<string>> {
  const byUser = new Map<string, Set<string>>();
  for (const { userId, frames } of clients) {
    let ids = byUser.get(userId);
    if (!ids) byUser.set(userId, (ids = new Set()));
    for (const frame of frames)
      if (frame.type === 'notification' && typeof frame.id === 'string') ids.add(frame.id);
  }
  return byUser;
}
