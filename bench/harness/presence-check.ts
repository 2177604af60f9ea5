import { sign } from 'jsonwebtoken';
import type { PresenceSummary } from '../references/reference-presence';
import { BENCH_JWT_SECRET, ServerUnderTest } from './server-under-test';

interface AdminPresence {
  onlineUsers: number;
  sessions: number;
  users: { sessions: { pings: number }[] }[];
}

/**
 * What the server's presence map holds: MealPulse's through its admin API (the product's own
 * view), the references' over IPC.
 */
export async function presenceOf(server: ServerUnderTest): Promise<PresenceSummary> {
  if (server.kind !== 'mealpulse') return server.referencePresence();
  const token = sign({ sub: 'bench-admin', roles: ['admin'] }, BENCH_JWT_SECRET, {
    algorithm: 'HS256',
    expiresIn: 600,
  });
  const response = await fetch(`${server.baseUrl}/api/v1/admin/presence`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`admin presence answered ${response.status}`);
  const body = (await response.json()) as AdminPresence;
  let pings = 0;
  for (const user of body.users) for (const session of user.sessions) pings += session.pings;
  return { sessions: body.sessions, users: body.users.length, pings };
}
