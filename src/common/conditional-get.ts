/**
 * Whether an `If-None-Match` header names `etag` (RFC 9110 §13.1.2): `*`, or a comma-separated
 * list of entity tags compared weakly (`W/"x"` matches `"x"`). An absent or empty header names
 * nothing.
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const wanted = opaque(etag);
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if (tag === '*' || (tag !== '' && opaque(tag) === wanted)) return true;
  }
  return false;
}

/** The quoted part of an entity tag, without the weakness prefix. */
function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}
