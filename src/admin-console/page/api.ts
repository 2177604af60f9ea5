/**
 * The admin API as this page uses it. REST bodies are typed by the OpenAPI document (the types
 * `npm run contracts` generates from it); the event stream's payloads are the server's own types.
 * All are type-only imports, erased by the build.
 */
import type { components } from '../../../tools/contracts/generated/rest-api';

export type { PresenceChange } from '../../presence/presence-change';
export type { SessionRecord as LiveSession } from '../../presence/presence-change';
export type { PresenceSnapshot as Snapshot, StatsSample } from '../admin-events.types';

type Schemas = components['schemas'];
export type AuditedSessionPage = Schemas['AuditedSessionPageResponse'];
export type UserPresence = Schemas['UserPresenceResponse'];
export type NotificationPage = Schemas['NotificationDeliveryPageResponse'];
export type NotificationRecord = Schemas['NotificationDeliveryResponse'];

/** The service said no: 401 (token not valid), 403 (not an admin), or another status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'mealpulse.adminToken';

/** The token lives in this tab's sessionStorage only: never in a URL, never in localStorage. */
export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string): void => sessionStorage.setItem(TOKEN_KEY, value),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

function headers(bearer: string): HeadersInit {
  return { authorization: `Bearer ${bearer}`, accept: 'application/json' };
}

async function failure(response: Response): Promise<ApiError> {
  let message = response.statusText;
  try {
    const body = (await response.json()) as { message?: unknown };
    if (typeof body.message === 'string') message = body.message;
    else if (Array.isArray(body.message)) message = body.message.join('; ');
  } catch {
    // Not JSON: the status text says enough.
  }
  return new ApiError(response.status, message);
}

export async function getJson<T>(path: string, bearer = token.get() ?? ''): Promise<T> {
  const response = await fetch(path, { headers: headers(bearer) });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * Reads a server-sent event stream through fetch (EventSource cannot send an Authorization
 * header), calling `onEvent` per event until the stream ends or `signal` aborts.
 */
export async function readEvents(
  path: string,
  signal: AbortSignal,
  onEvent: (type: string, data: unknown) => void,
): Promise<void> {
  const response = await fetch(path, {
    headers: { authorization: `Bearer ${token.get() ?? ''}`, accept: 'text/event-stream' },
    signal,
  });
  if (!response.ok || response.body === null) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    let end: number;
    while ((end = buffered.indexOf('\n\n')) !== -1) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      let type = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) type = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) onEvent(type, JSON.parse(data.join('\n')));
    }
  }
}
