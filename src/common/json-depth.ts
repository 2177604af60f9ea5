/** Deeper than any body MealPulse takes (a MealLog is depth 1) and far from any stack's limit. */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether JSON text nests objects and arrays deeper than `max`, read in one pass over the bytes
 * before anything recursive (the JSON reviver, class-transformer) walks it: a 16 KiB body of
 * brackets nests 8,000 deep, which exhausts the stack of a recursive transformer.
 */
export function jsonNestsDeeperThan(text: Buffer | string, max: number): boolean {
  // A string is read by UTF-16 unit: every byte the loop looks for is ASCII either way.
  const code =
    typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const byte = code(i);
    if (inString) {
      if (byte === 0x5c)
        i++; // a backslash escapes the next character
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return true;
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--;
    }
  }
  return false;
}
