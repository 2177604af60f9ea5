/** A query parameter name worth showing; anything else could be data pasted where a name goes. */
const PLAIN_NAME = /^[A-Za-z0-9_.[\]-]{1,32}$/;

/**
 * A request URL as logs may show it: the path, and the query's parameter names without their
 * values. Query values carry tokens (`access_token`, however it is spelled or encoded), cursors
 * and user ids; none of them belongs in a log line.
 */
export function redactedUrl(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const query = url.slice(start + 1);
  if (query === '') return url.slice(0, start);
  const names = query.split(/[&;]/).map((pair) => {
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator);
    // A part without `=` is all value (`?<token>`).
    return separator > 0 && PLAIN_NAME.test(name) ? `${name}=[Redacted]` : '[Redacted]';
  });
  return `${url.slice(0, start)}?${names.join('&')}`;
}
