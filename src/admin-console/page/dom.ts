/**
 * Every value on this page that came from the service (meal text, user agents, device ids) is
 * set as text: nothing here ever assigns HTML.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string | null)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) if (child !== null) element.append(child);
  return element;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

export function show(id: string, visible: boolean): void {
  byId(id).hidden = !visible;
}

/** "14:03:27" today, else the date too; "—" for none. */
export function time(iso: string | null): string {
  if (iso === null) return '—';
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString() : date.toLocaleString();
}

export function text(value: string | number | null): string {
  return value === null ? '—' : String(value);
}

/** A form field's text ('' when absent; the page's forms have no file inputs). */
export function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}
