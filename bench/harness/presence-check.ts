import { sign } from 'jsonwebtoken';
import type { PresenceSummary } from '../references/reference-presence';
import { BENCH_JWT_SECRET, ServerUnderTest } from './server-under-test';

/** Sum of a Prometheus counter's samples across its labels (those holding `label` only). */
function counterTotal(exposition: string, name: string, label = ''): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(label)) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

/**
 * What the server's presence map holds: MealPulse's through its own views (the admin overview's
 * session count, the pings counter of /metrics), the references' over IPC.
 */
export async function presenceOf(server: ServerUnderTest): Promise<PresenceSummary> {
  if (server.kind !== 'mealpulse') return server.referencePresence();
  const token = sign({ sub: 'bench-admin', roles: ['admin'] }, BENCH_JWT_SECRET, {
    algorithm: 'HS256',
    expiresIn: 600,
  });
  const overview = await fetch(`${server.baseUrl}/api/v1/admin/presence?limit=1`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!overview.ok) throw new Error(`admin presence answered ${overview.status}`);
  const { sessions, onlineUsers } = (await overview.json()) as {
    sessions: number;
    onlineUsers: number;
  };
  const metrics = await fetch(`${server.baseUrl}/metrics`);
  const exposition = await metrics.text();
  const pings = counterTotal(exposition, 'mealpulse_ws_pings_received_total');
  const pongs = counterTotal(exposition, 'mealpulse_ws_pings_received_total', 'protocol_pong');
  return { sessions, users: onlineUsers, pings, pongs };
}
