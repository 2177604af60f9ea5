/**
 * A word, an amount written in digits, or a break between phrases (punctuation). Catalog names and
 * user text go through the same tokenizer so that they compare equal token by token.
 */
export type MealToken =
  | { readonly kind: 'word'; readonly text: string }
  | { readonly kind: 'number'; readonly text: string; readonly value: number }
  | { readonly kind: 'fraction'; readonly text: string; readonly value: number }
  | { readonly kind: 'break'; readonly text: string };

// Typed before NFKD, which would turn "1½" into "11⁄2" and make it unreadable.
const VULGAR_FRACTIONS: Readonly<Record<string, string>> = {
  '½': '1/2',
  '⅓': '1/3',
  '⅔': '2/3',
  '¼': '1/4',
  '¾': '3/4',
  '⅛': '1/8',
};

const TOKEN = /(\d+\s*\/\s*\d+)|(\d*\.\d+|\d+)|([a-z]+)|([^\sa-z0-9])/g;

/**
 * Lower-cases and simplifies the text so that "Jalapeño", "cow's milk", "mac & cheese", "2% milk",
 * "coffee w/ milk" and "stir-fry" reach the catalog in one spelling.
 */
export function normalizeMealText(text: string): string {
  return text
    .replace(/[½⅓⅔¼¾⅛]/g, (fraction) => ` ${VULGAR_FRACTIONS[fraction]} `)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’‘`´]/g, '')
    .replace(/(\d)\s*%/g, '$1 percent ')
    .replace(/&/g, ' and ')
    .replace(/\bw\//g, ' with ')
    .replace(/([a-z])-(?=[a-z])/g, '$1 ');
}

export function tokenizeMealText(text: string): MealToken[] {
  const tokens: MealToken[] = [];
  for (const match of normalizeMealText(text).matchAll(TOKEN)) {
    const [raw, fraction, number, word] = match;
    if (fraction !== undefined) {
      const [numerator, denominator] = fraction.split('/').map((part) => Number(part.trim()));
      // "1/0" is no amount at all; drop it rather than carry Infinity into a weight.
      if (denominator > 0) {
        tokens.push({
          kind: 'fraction',
          text: fraction.replace(/\s+/g, ''),
          value: numerator / denominator,
        });
      }
    } else if (number !== undefined) {
      tokens.push({ kind: 'number', text: number, value: Number(number) });
    } else if (word !== undefined) {
      tokens.push({ kind: 'word', text: word });
    } else {
      tokens.push({ kind: 'break', text: raw });
    }
  }
  return tokens;
}
