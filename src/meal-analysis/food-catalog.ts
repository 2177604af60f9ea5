import type { FoodRecord, PortionName } from './food.types';
import { tokenizeMealText, type MealToken } from './meal-text.tokenizer';
import { gramsPerUnit } from './portion.conversion';

export interface CatalogMatch {
  readonly food: FoodRecord;
  /** How many tokens the matched name spans. */
  readonly length: number;
}

/**
 * Finds foods by name or synonym. Keys are compared token by token after the same normalisation
 * the meal text gets, and the longest name wins, so "peanut butter" is one food rather than
 * peanuts followed by butter, and "mac and cheese" is not split at its "and".
 *
 * The constructor rejects ambiguous or unusable data (a name used twice, a default portion with no
 * weight), so a bad catalog fails at startup rather than on some user's meal.
 */
export class FoodCatalog {
  private readonly byKey = new Map<string, FoodRecord>();
  private readonly longestKey: number;

  constructor(readonly foods: readonly FoodRecord[]) {
    let longest = 1;
    for (const food of foods) {
      assertUsable(food);
      for (const spelling of [food.name, ...(food.synonyms ?? [])]) {
        const words = keyWords(spelling);
        if (words.length === 0) throw new Error(`Food "${food.name}" has an empty name or synonym`);
        const key = words.join(' ');
        const taken = this.byKey.get(key);
        if (taken) {
          throw new Error(`"${spelling}" names both "${taken.name}" and "${food.name}"`);
        }
        this.byKey.set(key, food);
        longest = Math.max(longest, words.length);
      }
    }
    this.longestKey = longest;
  }

  get size(): number {
    return this.foods.length;
  }

  /** The food a whole phrase names ("Greek yoghurt", "potatoes"), if any. */
  lookup(phrase: string): FoodRecord | undefined {
    const tokens = tokenizeMealText(phrase);
    const match = this.matchAt(tokens, 0);
    return match && match.length === tokens.length ? match.food : undefined;
  }

  /** The longest food name starting at `start`; names never span punctuation. */
  matchAt(tokens: readonly MealToken[], start: number): CatalogMatch | undefined {
    const words: string[] = [];
    for (let i = start; i < tokens.length && words.length < this.longestKey; i++) {
      const token = tokens[i];
      if (token.kind === 'break' || token.kind === 'fraction') break;
      words.push(token.text);
    }
    for (let length = words.length; length > 0; length--) {
      const food = this.find(words.slice(0, length));
      if (food) return { food, length };
    }
    return undefined;
  }

  private find(words: readonly string[]): FoodRecord | undefined {
    const exact = this.byKey.get(words.join(' '));
    if (exact) return exact;
    // Only the last word carries the plural: "chicken breasts", "cherry tomatoes".
    const head = words.slice(0, -1);
    for (const variant of numberVariants(words[words.length - 1])) {
      const food = this.byKey.get([...head, variant].join(' '));
      if (food) return food;
    }
    return undefined;
  }
}

function keyWords(spelling: string): string[] {
  return tokenizeMealText(spelling)
    .filter((token) => token.kind === 'word' || token.kind === 'number')
    .map((token) => token.text);
}

/**
 * Singular forms of a plural ("berries" → "berry", "potatoes" → "potato", "peaches" → "peach") and,
 * the other way round, plural forms for names the catalog keeps plural ("black bean" → "black
 * beans"). Only forms that are catalog keys are ever used, so over-generating is harmless.
 */
function numberVariants(word: string): string[] {
  const variants: string[] = [];
  if (word.length > 3 && word.endsWith('ies')) variants.push(`${word.slice(0, -3)}y`);
  if (word.endsWith('ves')) variants.push(`${word.slice(0, -3)}f`, `${word.slice(0, -3)}fe`);
  if (/(?:s|x|z|ch|sh|o)es$/.test(word)) variants.push(word.slice(0, -2));
  if (word.length > 2 && word.endsWith('s') && !word.endsWith('ss'))
    variants.push(word.slice(0, -1));
  variants.push(`${word}s`, `${word}es`);
  return variants;
}

function assertUsable(food: FoodRecord): void {
  const nutrients = [food.kcal, food.proteinG, food.carbsG, food.fatG];
  if (!nutrients.every((value) => Number.isFinite(value) && value >= 0)) {
    throw new Error(`Food "${food.name}" has a negative or non-numeric nutrient value`);
  }
  for (const [portion, grams] of Object.entries(food.portions)) {
    if (!(typeof grams === 'number' && Number.isFinite(grams) && grams > 0)) {
      throw new Error(`Food "${food.name}" has no positive weight for its ${portion} portion`);
    }
  }
  const used: PortionName[] = [food.defaultPortion];
  if (food.countPortion) used.push(food.countPortion);
  if (food.addOn) used.push(food.addOn.portion);
  for (const portion of used) {
    if (gramsPerUnit(food, portion) === undefined) {
      throw new Error(`Food "${food.name}" uses a ${portion} portion it gives no weight for`);
    }
  }
  if (food.addOn && !(food.addOn.quantity > 0)) {
    throw new Error(`Food "${food.name}" has a non-positive add-on quantity`);
  }
}
