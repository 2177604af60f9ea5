import { FoodCatalog } from './food-catalog';
import type { FoodRecord, PortionName } from './food.types';
import { FOODS } from './foods.data';
import { tokenizeMealText, type MealToken } from './meal-text.tokenizer';
import {
  gramsPerUnit,
  LONGEST_UNIT_ALIAS,
  SIZE_WORDS,
  UNIT_ALIASES,
  type MealUnit,
  type MeasureUnit,
  type SizeWord,
} from './portion.conversion';

export interface ParsedItem {
  readonly food: FoodRecord;
  readonly quantity: number;
  /** The unit or portion the grams were actually computed from (after any fallback). */
  readonly unit: MealUnit;
  readonly grams: number;
}

export interface ParsedMeal {
  readonly items: ParsedItem[];
  /** Words that are not food, amount, unit or filler, in order of appearance. */
  readonly unrecognized: string[];
}

/** What has been said about the amount of the food that comes next. */
interface Amount {
  readonly quantity?: number;
  /** Came from "a"/"an": an article first, so "a couple", "a half" or "a dozen" may replace it. */
  readonly fromArticle: boolean;
  /** A whole number that a following fraction adds to: "1 1/2". */
  readonly whole: boolean;
  readonly unit?: MeasureUnit;
  readonly size?: SizeWord;
}

const NO_AMOUNT: Amount = { fromArticle: false, whole: false };

const NUMBER_WORDS: ReadonlyMap<string, number> = new Map([
  ['one', 1],
  ['two', 2],
  ['three', 3],
  ['four', 4],
  ['five', 5],
  ['six', 6],
  ['seven', 7],
  ['eight', 8],
  ['nine', 9],
  ['ten', 10],
  ['eleven', 11],
  ['twelve', 12],
  ['fifteen', 15],
  ['twenty', 20],
]);

/** Words that stand for a count on their own ("a couple of eggs"). */
const COUNT_WORDS: ReadonlyMap<string, number> = new Map([
  ['couple', 2],
  ['pair', 2],
  ['few', 3],
]);

/** Words that scale what was said before them: "half a cup", "a dozen eggs", "a double whisky". */
const MULTIPLIERS: ReadonlyMap<string, number> = new Map([
  ['half', 1 / 2],
  ['halves', 1 / 2],
  ['third', 1 / 3],
  ['thirds', 1 / 3],
  ['quarter', 1 / 4],
  ['quarters', 1 / 4],
  ['dozen', 12],
  ['double', 2],
  ['triple', 3],
]);

/** "two and a half", "one and a quarter". */
const AND_FRACTIONS: ReadonlyMap<string, number> = new Map([
  ['half', 1 / 2],
  ['third', 1 / 3],
  ['quarter', 1 / 4],
]);

/** Words that end one food's phrase and start the next one's. */
const SEPARATORS = new Set(['and', 'with', 'plus', 'on', 'then']);

/**
 * Words that carry no amount and no food. Cooking words are here because the catalog already holds
 * foods as eaten; a cooking word that changes the food ("fried egg", "baked beans") is part of a
 * catalog name and wins as the longer match.
 */
const FILLERS = new Set([
  'of',
  'some',
  'fresh',
  'cooked',
  'the',
  'my',
  'i',
  'ive',
  'id',
  'had',
  'have',
  'has',
  'ate',
  'eaten',
  'eat',
  'drank',
  'drink',
  'for',
  'breakfast',
  'brunch',
  'lunch',
  'dinner',
  'supper',
  'snack',
  'today',
  'yesterday',
  'tonight',
  'this',
  'morning',
  'afternoon',
  'evening',
  'about',
  'around',
  'approx',
  'approximately',
  'roughly',
  'just',
  'also',
  'plain',
  'homemade',
  'organic',
  'raw',
  'grilled',
  'roasted',
  'roast',
  'baked',
  'boiled',
  'steamed',
  'fried',
  'toasted',
  'sliced',
  'chopped',
  'diced',
  'whole',
  'hot',
  'warm',
  'cold',
  'iced',
  'extra',
  'side',
  'x',
]);

let sharedCatalog: FoodCatalog | undefined;

function defaultCatalog(): FoodCatalog {
  sharedCatalog ??= new FoodCatalog(FOODS);
  return sharedCatalog;
}

/**
 * Reads a free-text meal ("2 slices of toast with butter, a coffee") into catalog foods with
 * quantities and grams. Pure: the same text always gives the same result and nothing is looked up
 * outside the catalog.
 *
 * Amounts are collected until a food name appears and then belong to it; punctuation and words
 * such as "and" / "with" start a new phrase. An amount written after its food ("pizza slice",
 * "chicken 200g") is applied when the phrase ends. Anything unknown is reported in `unrecognized`
 * rather than guessed at.
 */
export function parseMealText(text: string, catalog: FoodCatalog = defaultCatalog()): ParsedMeal {
  const tokens = tokenizeMealText(text);
  const items: ParsedItem[] = [];
  const unrecognized: string[] = [];
  let amount = NO_AMOUNT;
  // After "with", an unquantified condiment is a spread or a splash, not a full portion.
  let withClause = false;
  // The phrase's last item while it was named without an amount, so a trailing amount can apply.
  let open: { index: number; amount: Amount; withClause: boolean } | undefined;

  const endPhrase = (): void => {
    if (open && isSpecific(amount)) {
      items[open.index] = resolve(
        items[open.index].food,
        merge(open.amount, amount),
        open.withClause,
      );
    }
    amount = NO_AMOUNT;
    open = undefined;
  };

  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i];
    if (token.kind === 'break') {
      endPhrase();
      withClause = false;
      i += 1;
      continue;
    }

    const match = catalog.matchAt(tokens, i);
    if (match) {
      items.push(resolve(match.food, amount, withClause));
      open = isSpecific(amount) ? undefined : { index: items.length - 1, amount, withClause };
      amount = NO_AMOUNT;
      i += match.length;
      continue;
    }

    if (token.kind === 'number' || token.kind === 'fraction') {
      amount = addNumber(amount, token.value, token.kind === 'fraction');
      i += 1;
      continue;
    }

    const word = token.text;
    const unit = matchUnit(tokens, i);
    if (unit) {
      amount = { ...amount, unit: unit.unit };
      i += unit.length;
      continue;
    }

    if (word === 'and') {
      // "one and a half cups": the "and" belongs to the number, not between two foods.
      const fraction = fractionAfterAnd(tokens, i);
      if (fraction && amount.quantity !== undefined && !amount.fromArticle) {
        amount = { ...amount, quantity: amount.quantity + fraction.value, whole: false };
        i = fraction.next;
        continue;
      }
    }

    const counted = readAmountWord(word, amount);
    if (counted) {
      amount = counted;
      i += 1;
      continue;
    }

    const size = SIZE_WORDS.get(word);
    if (size) {
      amount = { ...amount, size };
    } else if (SEPARATORS.has(word)) {
      endPhrase();
      // "toast with butter and jam": both spreads belong to the "with".
      if (word === 'with') withClause = true;
      else if (word !== 'and') withClause = false;
    } else if (!FILLERS.has(word)) {
      unrecognized.push(word);
    }
    i += 1;
  }
  endPhrase();
  const real = items.filter(isRealistic);
  for (const item of items) if (!isRealistic(item)) unrecognized.push(item.food.name);
  return { items: real, unrecognized };
}

/**
 * More than this of one food in one meal is no meal anybody ate ("99999999999999999999 g rice",
 * a number past `Number.MAX_VALUE`): the item is reported as unrecognised, never stored with an
 * infinite or absurd weight.
 */
export const MAX_ITEM_GRAMS = 100_000;

function isRealistic(item: ParsedItem): boolean {
  return (
    Number.isFinite(item.quantity) && Number.isFinite(item.grams) && item.grams <= MAX_ITEM_GRAMS
  );
}

/** The amount after reading `word`, or undefined when the word says nothing about amounts. */
function readAmountWord(word: string, amount: Amount): Amount | undefined {
  if (word === 'a' || word === 'an') {
    // "half a cup", "a couple of": the article adds nothing to an amount already given.
    return amount.quantity === undefined ? { ...amount, quantity: 1, fromArticle: true } : amount;
  }
  const number = NUMBER_WORDS.get(word);
  if (number !== undefined) return addNumber(amount, number, false);
  const count = COUNT_WORDS.get(word);
  if (count !== undefined) return { ...amount, quantity: count, fromArticle: false, whole: true };
  const multiplier = MULTIPLIERS.get(word);
  if (multiplier !== undefined) {
    const quantity = (amount.quantity ?? 1) * multiplier;
    return { ...amount, quantity, fromArticle: false, whole: Number.isInteger(quantity) };
  }
  return undefined;
}

function addNumber(amount: Amount, value: number, isFraction: boolean): Amount {
  if (isFraction && amount.whole && amount.quantity !== undefined && value < 1) {
    return { ...amount, quantity: amount.quantity + value, whole: false };
  }
  return {
    ...amount,
    quantity: value,
    fromArticle: false,
    whole: !isFraction && Number.isInteger(value),
  };
}

function fractionAfterAnd(
  tokens: readonly MealToken[],
  at: number,
): { value: number; next: number } | undefined {
  let i = at + 1;
  const article = tokens[i];
  if (article?.kind === 'word' && (article.text === 'a' || article.text === 'an')) i += 1;
  const part = tokens[i];
  if (part?.kind !== 'word') return undefined;
  const value = AND_FRACTIONS.get(part.text);
  return value === undefined ? undefined : { value, next: i + 1 };
}

function matchUnit(
  tokens: readonly MealToken[],
  at: number,
): { unit: MeasureUnit; length: number } | undefined {
  for (let length = LONGEST_UNIT_ALIAS; length > 0; length--) {
    const words = tokens.slice(at, at + length);
    if (words.length < length || words.some((token) => token.kind !== 'word')) continue;
    const unit = UNIT_ALIASES.get(words.map((token) => token.text).join(' '));
    if (unit) return { unit, length };
  }
  return undefined;
}

/** True when the amount says more than "a": a real number, a unit or a size. */
function isSpecific(amount: Amount): boolean {
  return (
    (amount.quantity !== undefined && !amount.fromArticle) ||
    amount.unit !== undefined ||
    amount.size !== undefined
  );
}

function merge(before: Amount, after: Amount): Amount {
  const quantityAfter = after.quantity !== undefined && !after.fromArticle;
  return {
    quantity: quantityAfter ? after.quantity : (before.quantity ?? after.quantity),
    fromArticle: quantityAfter ? false : before.fromArticle,
    whole: false,
    unit: after.unit ?? before.unit,
    size: after.size ?? before.size,
  };
}

/** Turns what was said about the amount into grams of this food. */
function resolve(food: FoodRecord, amount: Amount, withClause: boolean): ParsedItem {
  const quantity = amount.quantity ?? 1;
  if (amount.unit !== undefined) {
    const grams = gramsPerUnit(food, amount.unit);
    if (grams !== undefined) return { food, quantity, unit: amount.unit, grams: quantity * grams };
    // "2 slices of milk": the unit means nothing for this food, so count its usual portions.
    return portion(food, food.defaultPortion, quantity);
  }
  if (amount.size !== undefined) {
    const grams = food.portions[amount.size];
    if (grams !== undefined) return { food, quantity, unit: amount.size, grams: quantity * grams };
    // A size for a food without sizes ("a large steak") still counts whole items.
    return portion(food, food.countPortion ?? food.defaultPortion, quantity);
  }
  if (amount.quantity === undefined) {
    if (withClause && food.addOn) return portion(food, food.addOn.portion, food.addOn.quantity);
    return portion(food, food.defaultPortion, 1);
  }
  return portion(food, food.countPortion ?? food.defaultPortion, quantity);
}

function portion(food: FoodRecord, name: PortionName, quantity: number): ParsedItem {
  const grams = gramsPerUnit(food, name);
  // FoodCatalog refuses foods whose default, count or add-on portion has no weight.
  if (grams === undefined) throw new Error(`Food "${food.name}" has no weight for a ${name}`);
  return { food, quantity, unit: name, grams: quantity * grams };
}
