/** Deeper than any body MealPulse takes (a MealLog is depth 1) and far from any stack's limit. */
export const MAX_JSON_DEPTH = 32;

const QUOTE = '"';
const QUOTE_CODE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/**
 * Whether JSON text nests objects and arrays deeper than `max`, read in one pass over the bytes
 * before anything recursive (the JSON reviver, class-transformer) walks it: a 16 KiB body of
 * brackets nests 8,000 deep, which exhausts the stack of a recursive transformer.
 *
 * It runs on every body and every message between instances, whose bytes are mostly inside
 * strings: a string is skipped with a native search for its closing quote rather than a
 * character at a time (a 1 KB notification in a fifth of the time).
 */
export function jsonNestsDeeperThan(input: Buffer | string, max: number): boolean {
  // As latin1 every byte is one character at the same index, and a byte of a multi-byte UTF-8
  // character is never one of the ASCII characters looked for.
  const text = typeof input === 'string' ? input : input.toString('latin1');
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE_CODE) {
      i = closingQuote(text, i);
      if (i === -1) return false; // an unterminated string: nothing after it nests
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that closes the string opened at `open`, or -1 if none does. */
function closingQuote(text: string, open: number): number {
  for (let at = text.indexOf(QUOTE, open + 1); at !== -1; at = text.indexOf(QUOTE, at + 1)) {
    // Escaped when an odd number of backslashes precede it (the opening quote ends the run).
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}
