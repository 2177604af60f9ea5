import { Injectable } from '@nestjs/common';
import { parseInstant } from '../common/instant';
import { decodeCursor, encodeCursor } from '../common/pagination';
import type { AuditedSessionsQuery } from './dto/admin-presence.query';
import { AppConfig } from '../config/app-config';
import type { AuditedSessionView, SessionView } from './live-session';
import type { SessionRecord } from './presence-store.port';
import { PresenceService } from './presence.service';
import { SessionAuditRepository } from './session-audit.repository';
import { isFresh, latestSeen } from './staleness';

export interface UserPresence {
  userId: string;
  online: boolean;
  lastSeenAt: string | null;
  sessions: SessionView[];
}

export interface PresenceOverview {
  onlineUsers: number;
  sessions: number;
  users: { userId: string; lastSeenAt: string; sessions: SessionView[] }[];
}

/** The contract's Session has no instance: which process holds it is an operator's concern. */
function withoutInstance({ instanceId: _instanceId, ...session }: SessionRecord): SessionView {
  return session;
}

/** What admins ask about presence: live state from memory, history from the audit table. */
@Injectable()
export class AdminPresenceService {
  constructor(
    private readonly config: AppConfig,
    private readonly presence: PresenceService,
    private readonly audit: SessionAuditRepository,
  ) {}

  async overview(limit: number): Promise<PresenceOverview> {
    const { onlineUsers, sessions, users } = await this.presence.overview(limit);
    return {
      onlineUsers,
      sessions,
      users: users.map(({ userId, lastSeenAt, sessions: userSessions }) => ({
        userId,
        lastSeenAt: new Date(lastSeenAt).toISOString(),
        sessions: userSessions.map(withoutInstance),
      })),
    };
  }

  async user(userId: string): Promise<UserPresence> {
    const now = Date.now();
    const sessions = await this.presence.sessionsOf(userId);
    const lastSeenAt = latestSeen(sessions, (s) => Date.parse(s.lastSeenAt));
    return {
      userId,
      online: lastSeenAt !== null && isFresh(lastSeenAt, now, this.config.presence.staleAfterMs),
      lastSeenAt: lastSeenAt === null ? null : new Date(lastSeenAt).toISOString(),
      sessions: sessions.map(withoutInstance),
    };
  }

  async endedSessions(
    query: AuditedSessionsQuery,
  ): Promise<{ items: AuditedSessionView[]; nextCursor: string | null }> {
    const page = await this.audit.listEnded(
      {
        userId: query.userId,
        endReason: query.endReason,
        // Validated by the query DTO: parseInstant reads them.
        from: query.from ? (parseInstant(query.from) ?? undefined) : undefined,
        to: query.to ? (parseInstant(query.to) ?? undefined) : undefined,
      },
      query.limit,
      query.cursor ? decodeCursor(query.cursor) : null,
    );
    return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null };
  }
}
