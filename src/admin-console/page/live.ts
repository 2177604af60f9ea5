import { ApiError, LiveSession, PresenceChange, readEvents, Snapshot, StatsSample } from './api';
import { LiveChart } from './chart';
import { byId, el, text, time } from './dom';

/** Kept in the "recent changes" list. */
const RECENT_CHANGES = 50;
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 15_000;
/**
 * A change this recent wins over a snapshot that disagrees: with several instances, a session
 * opened or ended a moment ago may not have reached the shared store the snapshot was read from.
 */
const RECENT_MS = 10_000;
/** Rows drawn at most, newest first: a reconnect storm brings thousands of sessions at once. */
const MAX_ROWS = 500;

/**
 * The live view: a snapshot of every online session, then the admin event stream's changes,
 * applied as they come; reconnects with back-off when the stream drops.
 */
export class LiveView {
  private readonly sessions = new Map<string, LiveSession>();
  /** Sessions opened or ended by recent changes, and when (see RECENT_MS). */
  private readonly recentlyOpened = new Map<string, { session: LiveSession; at: number }>();
  private readonly recentlyEnded = new Map<string, number>();
  private chart: LiveChart | null = null;
  private abort: AbortController | null = null;
  private onlineUsers = 0;
  /** A render is scheduled for the next frame: a burst of changes draws the table once. */
  private renderQueued = false;

  constructor(
    private readonly onUnauthorized: (error: ApiError) => void,
    private readonly onUser: (userId: string) => void,
  ) {}

  start(): void {
    this.chart ??= new LiveChart(byId('chart'));
    void this.connect(RETRY_FIRST_MS);
  }

  stop(): void {
    this.abort?.abort();
    this.abort = null;
  }

  private async connect(retryMs: number): Promise<void> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    const state = byId('stream-state');
    state.textContent = 'connecting…';
    try {
      await readEvents('/api/v1/admin/events', abort.signal, (type, data) => {
        state.textContent = 'live';
        retryMs = RETRY_FIRST_MS;
        this.apply(type, data);
      });
    } catch (error) {
      if (abort.signal.aborted) return;
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        this.onUnauthorized(error);
        return;
      }
    }
    if (abort.signal.aborted) return;
    state.textContent = `disconnected; retrying in ${Math.round(retryMs / 1000)} s`;
    setTimeout(() => {
      if (this.abort === abort) void this.connect(Math.min(retryMs * 2, RETRY_MAX_MS));
    }, retryMs);
  }

  private apply(type: string, data: unknown): void {
    switch (type) {
      case 'snapshot':
        return this.snapshot(data as Snapshot);
      case 'stats':
        return this.stats(data as StatsSample);
      case 'session.opened':
      case 'session.app_state':
      case 'session.ended':
        return this.change(data as PresenceChange);
    }
  }

  private snapshot(snapshot: Snapshot): void {
    const recentFrom = Date.now() - RECENT_MS;
    for (const [id, { at }] of this.recentlyOpened)
      if (at < recentFrom) this.recentlyOpened.delete(id);
    for (const [id, at] of this.recentlyEnded) if (at < recentFrom) this.recentlyEnded.delete(id);
    this.sessions.clear();
    for (const user of snapshot.users)
      for (const session of user.sessions)
        if (!this.recentlyEnded.has(session.sessionId))
          this.sessions.set(session.sessionId, session);
    for (const [id, { session }] of this.recentlyOpened)
      if (!this.sessions.has(id) && !this.recentlyEnded.has(id)) this.sessions.set(id, session);
    this.onlineUsers = snapshot.onlineUsers;
    this.chart?.replace(snapshot.stats);
    this.scheduleRender();
  }

  private stats(sample: StatsSample): void {
    this.onlineUsers = sample.onlineUsers;
    this.chart?.add(sample);
    this.renderCounts();
  }

  private change(change: PresenceChange): void {
    switch (change.type) {
      case 'session.opened':
        this.sessions.set(change.session.sessionId, change.session);
        this.recentlyOpened.set(change.session.sessionId, {
          session: change.session,
          at: Date.now(),
        });
        this.note(
          change.at,
          `${change.session.userId} connected (${change.session.deviceId ?? 'no device id'})`,
        );
        break;
      case 'session.app_state': {
        const session = this.sessions.get(change.sessionId);
        if (session) {
          session.appState = change.appState;
          session.appStateChangedAt = change.at;
        }
        this.note(change.at, `${change.userId} went to the ${change.appState}`);
        break;
      }
      case 'session.ended':
        this.sessions.delete(change.sessionId);
        this.recentlyEnded.set(change.sessionId, Date.now());
        this.note(change.at, `${change.userId} disconnected: ${change.endReason}`);
        break;
    }
    this.onlineUsers = new Set([...this.sessions.values()].map((s) => s.userId)).size;
    this.scheduleRender();
  }

  private note(at: string, line: string): void {
    const list = byId('changes');
    list.prepend(el('li', {}, el('time', { datetime: at }, time(at)), ' ', line));
    while (list.children.length > RECENT_CHANGES) list.lastElementChild?.remove();
  }

  private renderCounts(): void {
    byId('online-users').textContent = String(this.onlineUsers);
    byId('online-sessions').textContent = String(this.sessions.size);
  }

  private scheduleRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  private render(): void {
    this.renderCounts();
    const sessions = [...this.sessions.values()].sort((a, b) =>
      b.connectedAt.localeCompare(a.connectedAt),
    );
    const rows = sessions.slice(0, MAX_ROWS).map((session) => {
      const user = el('button', { type: 'button', class: 'link' }, session.userId);
      user.addEventListener('click', () => this.onUser(session.userId));
      return el(
        'tr',
        { 'data-session-id': session.sessionId },
        el('td', {}, user),
        el('td', {}, text(session.deviceId)),
        el('td', { class: `state-${session.appState}` }, session.appState),
        el('td', {}, session.instanceId),
        el('td', {}, time(session.connectedAt)),
        el('td', {}, time(session.lastSeenAt)),
        el('td', {}, String(session.pings)),
        el('td', {}, text(session.remoteAddress)),
        el('td', { class: 'agent' }, text(session.userAgent)),
      );
    });
    if (sessions.length > MAX_ROWS)
      rows.push(
        el(
          'tr',
          {},
          el(
            'td',
            { colspan: '9', class: 'muted' },
            `${sessions.length - MAX_ROWS} older sessions not shown (the User view shows anyone's)`,
          ),
        ),
      );
    byId('sessions')
      .querySelector('tbody')!
      .replaceChildren(...rows);
  }
}
