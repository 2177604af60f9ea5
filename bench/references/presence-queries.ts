import type { PresenceSummary } from './reference-presence';

export interface PresenceQuery {
  query: 'presence';
}

/** Answers the harness's `{query: 'presence'}` over IPC, to check presence after a workload. */
export function answerPresenceQueries(summary: () => PresenceSummary): void {
  if (!process.send) return;
  process.on('message', (message: Partial<PresenceQuery>) => {
    if (message?.query === 'presence') process.send!({ presence: summary() });
  });
  process.channel?.unref();
}
