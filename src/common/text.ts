/**
 * What PostgreSQL can store in a `text` column and what its `char_length` counts, stated once so
 * that validation refuses exactly what the database would (and nothing it would take):
 *
 * - PostgreSQL refuses NUL in text; a lone UTF-16 surrogate has no UTF-8 form, and the driver
 *   would silently store U+FFFD instead, so the stored text would differ from the one checked.
 * - Other control characters are storable but are never wanted in an identifier, and in free text
 *   only tab and line breaks are.
 * - `char_length` counts code points: "🍎" is one, where JavaScript's `length` says two and
 *   validator.js's `isLength` leaves variation selectors out.
 */

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_BUT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Characters as PostgreSQL's `char_length` counts them (code points). */
export function codePointLength(value: string): number {
  let count = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

export interface TextRule {
  min: number;
  max: number;
  /** Free text (a meal description) may hold tabs and line breaks; identifiers may not. */
  lineBreaks?: boolean;
}

/** Why `value` cannot be stored under `rule`, or null when it can. */
export function textProblem(value: string, rule: TextRule): string | null {
  if (LONE_SURROGATE.test(value)) return 'holds a broken character (a lone UTF-16 surrogate)';
  if ((rule.lineBreaks ? CONTROL_BUT_LINE_BREAKS : CONTROL).test(value)) {
    return rule.lineBreaks
      ? 'holds a control character (only tab and line breaks are allowed)'
      : 'holds a control character';
  }
  const length = codePointLength(value);
  if (length < rule.min || length > rule.max) {
    return `must be ${rule.min} to ${rule.max} characters, got ${length}`;
  }
  return null;
}

/** A user id as tokens carry it and tables store it. */
export const USER_ID_RULE: TextRule = { min: 1, max: 128 };

export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && textProblem(value, USER_ID_RULE) === null;
}
