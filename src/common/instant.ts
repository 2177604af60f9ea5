/**
 * ISO-8601 instants as clients send them (RFC 3339 profile): a date alone (UTC midnight), or a
 * date and time with seconds and fraction optional and an offset required. Week dates, ordinal
 * dates, the basic format and local times without offset are refused: they pass a loose
 * ISO-8601 check, and then `Date` cannot read them, or reads them in the server's time zone.
 */
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-](\d{2}):(\d{2})))?$/;

/** What both `Date` and PostgreSQL's `timestamptz` hold exactly, and what a meal can have had. */
const EARLIEST = new Date('0001-01-01T00:00:00.000Z').getTime();
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The instant `value` names, or null when it is not one (30 February, 24:61, year 0 …). */
export function parseInstant(value: string): Date | null {
  const match = INSTANT.exec(value);
  if (!match) return null;
  const [
    ,
    year,
    month,
    day,
    hour = '0',
    minute = '0',
    second = '0',
    fraction = '',
    zone,
    offH,
    offM,
  ] = match;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  // Date.UTC maps years 0-99 onto 1900-1999; setUTCFullYear does not.
  const local = new Date(
    Date.UTC(2000, mo - 1, d, h, mi, s, Number(fraction.padEnd(3, '0').slice(0, 3))),
  );
  local.setUTCFullYear(y);
  if (local.getUTCMonth() !== mo - 1 || local.getUTCDate() !== d) return null; // 30 February
  let offsetMinutes = 0;
  if (zone !== undefined && zone !== 'Z') {
    const hours = Number(offH);
    const minutes = Number(offM);
    if (hours > 23 || minutes > 59) return null;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  const time = local.getTime() - offsetMinutes * 60_000;
  return time >= EARLIEST && time <= LATEST ? new Date(time) : null;
}
