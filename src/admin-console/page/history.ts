import { AuditedSessionPage, getJson, query } from './api';
import { byId, el, field, text, time } from './dom';

/** The audit search: ended sessions by user, end reason and time range, newest first, paged. */
export class HistoryView {
  private filters: Record<string, string | undefined> = {};
  private cursor: string | null = null;

  constructor(private readonly onError: (error: unknown, where: string) => void) {
    byId<HTMLFormElement>('history-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const form = new FormData(event.currentTarget as HTMLFormElement);
      const instant = (name: string): string | undefined => {
        const value = field(form, name);
        return value === '' ? undefined : new Date(value).toISOString();
      };
      this.filters = {
        userId: field(form, 'userId').trim() || undefined,
        endReason: field(form, 'endReason') || undefined,
        from: instant('from'),
        to: instant('to'),
      };
      void this.load(true);
    });
    byId('history-more').addEventListener('click', () => void this.load(false));
  }

  async load(fresh: boolean): Promise<void> {
    byId('history-error').textContent = '';
    try {
      const page = await getJson<AuditedSessionPage>(
        `/api/v1/admin/presence/sessions${query({
          ...this.filters,
          limit: 50,
          cursor: fresh ? undefined : (this.cursor ?? undefined),
        })}`,
      );
      const body = byId('history-table').querySelector('tbody')!;
      const rows = page.items.map((session) =>
        el(
          'tr',
          { 'data-session-id': session.sessionId },
          el('td', {}, session.userId),
          el('td', {}, text(session.deviceId)),
          el('td', {}, time(session.connectedAt)),
          el('td', {}, time(session.endedAt)),
          el('td', { class: `reason-${session.endReason}` }, session.endReason),
          el('td', {}, String(session.pings)),
          el('td', {}, text(session.remoteAddress)),
          el('td', { class: 'agent' }, text(session.userAgent)),
        ),
      );
      if (fresh) body.replaceChildren(...rows);
      else body.append(...rows);
      if (fresh && rows.length === 0)
        body.append(
          el('tr', {}, el('td', { colspan: '8', class: 'muted' }, 'No ended session matches.')),
        );
      this.cursor = page.nextCursor;
      byId('history-more').hidden = page.nextCursor === null;
    } catch (error) {
      this.onError(error, 'history-error');
    }
  }
}
