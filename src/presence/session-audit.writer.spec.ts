import { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import type { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import type { LiveSession } from './live-session';
import type {
  EndedSession,
  SessionActivity,
  SessionAuditRepository,
} from './session-audit.repository';
import { ACTIVITY_CHUNK, SessionAuditWriter } from './session-audit.writer';

const AUDIT_FLUSH_INTERVAL_MS = 50;

function session(sessionId: string): LiveSession {
  return {
    sessionId,
    userId: `user-${sessionId}`,
    deviceId: null,
    connectedAt: Date.now(),
    remoteAddress: null,
    userAgent: null,
    expiresAt: Date.now() + 60_000,
    lastSeenAt: Date.now(),
    welcomed: true,
    pings: 0,
    appState: 'foreground',
    appStateChangedAt: null,
    endReason: null,
  };
}

/**
 * The audit's statements, in the order they were sent; a statement holding a session id in
 * `refused` fails as PostgreSQL fails a refused row.
 */
class FakeAuditRepository {
  readonly statements: string[] = [];
  refused = new Set<string>();
  private held: Promise<void> | null = null;

  /** Holds every statement from now on until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.held = new Promise((resolve) => (release = resolve));
    return release;
  }

  async recordOpened(sessions: LiveSession[]): Promise<void> {
    await this.run('open', sessions);
  }
  async recordEnded(sessions: EndedSession[], reason: string): Promise<string[]> {
    await this.run(`end ${reason}`, sessions);
    return sessions.map((s) => s.sessionId);
  }
  async flushActivity(activity: SessionActivity[]): Promise<void> {
    await this.run('activity', activity);
  }

  private async run(kind: string, rows: { sessionId: string }[]): Promise<void> {
    if (rows.length === 0) return;
    this.statements.push(`${kind} ${rows.map((r) => r.sessionId).join(',')}`);
    await this.held;
    if (rows.some((r) => this.refused.has(r.sessionId)))
      throw Object.assign(new Error('refused'), { code: '23514' });
  }
}

describe('SessionAuditWriter', () => {
  let repository: FakeAuditRepository;
  let writer: SessionAuditWriter;

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    repository = new FakeAuditRepository();
    writer = new SessionAuditWriter(
      repository as unknown as SessionAuditRepository,
      { id: 'instance' },
      { presence: { auditFlushIntervalMs: AUDIT_FLUSH_INTERVAL_MS } } as AppConfig,
      {} as SchedulerRegistry,
      new Metrics(),
    );
  });
  afterEach(async () => {
    await writer.close();
    jest.restoreAllMocks();
  });

  it('writes an opening and an end queued together in one write, the opening first', async () => {
    const s = session('s1');
    writer.opened(s);
    writer.ended([s], 'closed');
    await writer.flush();
    expect(repository.statements).toEqual(['open s1', 'end closed s1']);
  });

  it('writes an end queued while its opening is in flight after the opening', async () => {
    const release = repository.hold();
    const s = session('s1');
    writer.opened(s);
    const opening = writer.flush();
    await new Promise((resolve) => setImmediate(resolve));
    writer.ended([s], 'closed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(repository.statements).toEqual(['open s1']);
    release();
    await opening;
    await writer.flush();
    expect(repository.statements).toEqual(['open s1', 'end closed s1']);
  });

  it('welcomes a session whose opening is refused without waiting for the timeout', async () => {
    repository.refused = new Set(['bad']);
    const [bad, good] = [session('bad'), session('good')];
    writer.opened(bad);
    writer.opened(good);
    const started = Date.now();
    await Promise.all([writer.whenRecorded(bad, 10_000), writer.whenRecorded(good, 10_000)]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(repository.statements).toEqual(['open bad,good', 'open bad', 'open good']);
    expect(writer.pendingWrites).toBe(0);
  });

  it('resolves whenRecorded after its timeout while the database does not answer', async () => {
    const release = repository.hold();
    const s = session('s1');
    writer.opened(s);
    const started = Date.now();
    await writer.whenRecorded(s, 20);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(writer.pendingWrites).toBe(1);
    release();
  });

  it('writes due activity in statements of ACTIVITY_CHUNK sessions, without ended sessions', async () => {
    const sessions = Array.from({ length: ACTIVITY_CHUNK + 10 }, (_, i) => session(`a${i}`));
    for (const s of sessions) writer.touched(s);
    writer.ended([sessions[0]], 'closed');
    await new Promise((resolve) => setTimeout(resolve, AUDIT_FLUSH_INTERVAL_MS + 10));
    await writer.flush();
    const activity = repository.statements.filter((statement) => statement.startsWith('activity'));
    // a0 ended: its activity goes with its end.
    expect(activity.map((statement) => statement.split(',').length)).toEqual([ACTIVITY_CHUNK, 9]);
    expect(
      activity
        .join(',')
        .replace(/activity /g, '')
        .split(','),
    ).not.toContain('a0');
  });
});
