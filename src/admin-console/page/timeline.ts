import { getJson, NotificationPage, NotificationRecord, query, UserPresence } from './api';
import { duration } from '../../common/duration';
import { byId, el, field, time } from './dom';

const PAGE_SIZE = 20;

const VIA: Record<string, string> = {
  live: 'written live to session',
  replay: 'replayed on reconnect to session',
  gap: 'written (gap filled) to session',
  catch_up: 'written by the catch-up to session',
};

/** One user: online now or not, and their notifications as timelines with a verdict each. */
export class UserView {
  private userId = '';
  private cursor: string | null = null;

  constructor(private readonly onError: (error: unknown, where: string) => void) {
    byId<HTMLFormElement>('user-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const form = new FormData(event.currentTarget as HTMLFormElement);
      void this.show(field(form, 'userId').trim());
    });
    byId('timeline-more').addEventListener('click', () => void this.loadNotifications(false));
  }

  async show(userId: string): Promise<void> {
    if (userId === '') return;
    this.userId = userId;
    byId<HTMLInputElement>('user-form').querySelector('input')!.value = userId;
    byId('user-error').textContent = '';
    try {
      const presence = await getJson<UserPresence>(
        `/api/v1/admin/presence/users/${encodeURIComponent(userId)}`,
      );
      byId('user-presence').replaceChildren(
        el('strong', {}, presence.userId),
        presence.online
          ? ` is online with ${presence.sessions.length} session(s) (${presence.sessions
              .map((s) => `${s.deviceId ?? 'no device id'}: ${s.appState}`)
              .join(', ')})`
          : ` is offline; last seen ${time(presence.lastSeenAt)}`,
      );
      await this.loadNotifications(true);
    } catch (error) {
      this.onError(error, 'user-error');
    }
  }

  private async loadNotifications(fresh: boolean): Promise<void> {
    try {
      const page = await getJson<NotificationPage>(
        `/api/v1/admin/users/${encodeURIComponent(this.userId)}/notifications${query({
          limit: PAGE_SIZE,
          cursor: fresh ? undefined : (this.cursor ?? undefined),
        })}`,
      );
      const items = page.items.map((n) => this.item(n));
      const list = byId('timeline');
      if (fresh) list.replaceChildren(...items);
      else list.append(...items);
      if (fresh && items.length === 0)
        list.append(el('li', { class: 'muted' }, 'No notifications.'));
      this.cursor = page.nextCursor;
      byId('timeline-more').hidden = page.nextCursor === null;
    } catch (error) {
      this.onError(error, 'user-error');
    }
  }

  private item(n: NotificationRecord): HTMLLIElement {
    const created = Date.parse(n.createdAt);
    const after = (iso: string): string => `+${duration(Date.parse(iso) - created)}`;
    const steps: { at: string; line: string }[] = [
      {
        at: n.createdAt,
        line: `created; ${n.onlineSessionsAtCreation} session(s) online, ${n.foregroundSessionsAtCreation} in the foreground`,
      },
    ];
    for (const d of n.sessions)
      steps.push({
        at: d.at,
        line: `${VIA[d.via] ?? d.via} ${d.sessionId} (${d.deviceId ?? 'no device id'})${d.attempts > 1 ? `, ${d.attempts} writes` : ''}`,
      });
    if (n.ackedAt !== null) steps.push({ at: n.ackedAt, line: 'acknowledged' });
    for (const p of n.push)
      steps.push({
        at: p.at,
        line: `push to ${p.deviceId}: ${p.status}${p.reason === null ? '' : ` (${p.reason})`}`,
      });
    steps.sort((a, b) => a.at.localeCompare(b.at));
    return el(
      'li',
      { 'data-notification-id': n.id, 'data-seq': String(n.seq) },
      el(
        'div',
        { class: 'summary' },
        el('span', { class: 'seq' }, `#${n.seq}`),
        ' ',
        el('span', { class: 'event' }, n.event),
        ' ',
        el('q', { class: 'meal-text' }, n.data.text),
      ),
      el('p', { class: 'verdict' }, n.verdict),
      el(
        'ol',
        { class: 'steps' },
        ...steps.map((step) =>
          el(
            'li',
            {},
            el(
              'time',
              { datetime: step.at },
              `${time(step.at)} ${step.at === n.createdAt ? '' : after(step.at)}`,
            ),
            ' ',
            step.line,
          ),
        ),
      ),
    );
  }
}
