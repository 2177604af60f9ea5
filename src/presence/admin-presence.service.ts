import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain.error';
import type { AuditedSessionsQuery } from './dto/admin-presence.query';
import { AuditedSessionView, SessionView, toSessionView } from './live-session';
import { PresenceService } from './presence.service';
import { EndedSessionCursor, SessionAuditRepository } from './session-audit.repository';

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function encodeCursor(cursor: EndedSessionCursor): string {
  return Buffer.from(`${cursor.endedAt}|${cursor.sessionId}`).toString('base64url');
}

function decodeCursor(value: string): EndedSessionCursor {
  const [endedAt, sessionId, extra] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  if (
    extra !== undefined ||
    !sessionId ||
    !UUID.test(sessionId) ||
    Number.isNaN(Date.parse(endedAt))
  ) {
    throw new DomainError('invalid_cursor', 'cursor is not a value returned as nextCursor');
  }
  return { endedAt, sessionId };
}

/** What admins ask about presence: live state from memory, history from the audit table. */
@Injectable()
export class AdminPresenceService {
  constructor(
    private readonly presence: PresenceService,
    private readonly audit: SessionAuditRepository,
  ) {}

  overview(limit: number): PresenceOverview {
    const now = Date.now();
    const online = new Set(this.presence.onlineUsers(now));
    const users = this.presence
      .users()
      .filter(({ userId }) => online.has(userId))
      .map(({ userId, sessions }) => ({
        userId,
        lastSeenAt: new Date(this.presence.lastSeenAt(userId) ?? now).toISOString(),
        sessions: sessions.map(toSessionView),
      }))
      .sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt))
      .slice(0, limit);
    return { onlineUsers: online.size, sessions: this.presence.sessionCount, users };
  }

  user(userId: string): UserPresence {
    const lastSeenAt = this.presence.lastSeenAt(userId);
    return {
      userId,
      online: this.presence.isOnline(userId),
      lastSeenAt: lastSeenAt === null ? null : new Date(lastSeenAt).toISOString(),
      sessions: this.presence.sessionsOf(userId).map(toSessionView),
    };
  }

  async endedSessions(
    query: AuditedSessionsQuery,
  ): Promise<{ items: AuditedSessionView[]; nextCursor: string | null }> {
    const page = await this.audit.listEnded(
      {
        userId: query.userId,
        endReason: query.endReason,
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
      },
      query.limit,
      query.cursor ? decodeCursor(query.cursor) : null,
    );
    return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null };
  }
}
