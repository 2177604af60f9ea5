import type { FoodRecord, PortionName } from './food.types';

export type MassUnit = 'g' | 'kg' | 'oz' | 'lb';
export type VolumeUnit = 'ml' | 'l' | 'fl oz' | 'pint' | 'cup' | 'tbsp' | 'tsp';
/** Vessels whose size is only meaningful for something poured or ladled into them. */
export type ContainerUnit = 'glass' | 'can' | 'bottle' | 'bowl' | 'shot';
/** Units that have no weight of their own: the food must say what one of them weighs. */
export type CountUnit = 'piece' | 'slice' | 'serving' | 'scoop';
export type MeasureUnit = MassUnit | VolumeUnit | ContainerUnit | CountUnit;
export type SizeWord = 'small' | 'medium' | 'large';
/** Every unit a parsed item can be expressed in. */
export type MealUnit = MeasureUnit | SizeWord;

const GRAMS: Readonly<Record<MassUnit, number>> = {
  g: 1,
  kg: 1000,
  oz: 28.349523125,
  lb: 453.59237,
};

// US customary measures, the ones FoodData Central's household portions are based on. A glass,
// bottle and bowl have no standard size; these are common ones (a bowl holds 1.5 cups).
const MILLILITRES: Readonly<Record<VolumeUnit | ContainerUnit, number>> = {
  ml: 1,
  l: 1000,
  'fl oz': 29.5735,
  pint: 473.176,
  cup: 236.588,
  tbsp: 14.7868,
  tsp: 4.92892,
  glass: 250,
  can: 355,
  bottle: 500,
  bowl: 354.882,
  shot: 44.3603,
};

const CONTAINERS: ReadonlySet<string> = new Set<ContainerUnit>([
  'glass',
  'can',
  'bottle',
  'bowl',
  'shot',
]);

const PORTION_NAMES: ReadonlySet<string> = new Set<PortionName>([
  'small',
  'medium',
  'large',
  'piece',
  'slice',
  'serving',
  'scoop',
  'cup',
  'tbsp',
  'tsp',
  'bowl',
  'glass',
  'can',
  'bottle',
  'shot',
]);

/** How people write units, including words that behave like one ("2 cloves of garlic"). */
export const UNIT_ALIASES: ReadonlyMap<string, MeasureUnit> = new Map<string, MeasureUnit>([
  ...aliases('g', 'g', 'gr', 'gram', 'grams', 'gramme', 'grammes'),
  ...aliases(
    'kg',
    'kg',
    'kgs',
    'kilo',
    'kilos',
    'kilogram',
    'kilograms',
    'kilogramme',
    'kilogrammes',
  ),
  ...aliases('oz', 'oz', 'ounce', 'ounces'),
  ...aliases('lb', 'lb', 'lbs', 'pound', 'pounds'),
  ...aliases('ml', 'ml', 'mls', 'millilitre', 'millilitres', 'milliliter', 'milliliters'),
  ...aliases('l', 'l', 'ltr', 'litre', 'litres', 'liter', 'liters'),
  ...aliases('fl oz', 'fl oz', 'floz', 'fluid ounce', 'fluid ounces'),
  ...aliases('pint', 'pint', 'pints'),
  ...aliases('cup', 'cup', 'cups', 'cupful', 'cupfuls'),
  ...aliases(
    'tbsp',
    'tbsp',
    'tbsps',
    'tbs',
    'tbl',
    'tablespoon',
    'tablespoons',
    'table spoon',
    'table spoons',
  ),
  ...aliases('tsp', 'tsp', 'tsps', 'teaspoon', 'teaspoons', 'tea spoon', 'tea spoons'),
  ...aliases('glass', 'glass', 'glasses'),
  ...aliases('can', 'can', 'cans', 'tin', 'tins'),
  ...aliases('bottle', 'bottle', 'bottles'),
  ...aliases('bowl', 'bowl', 'bowls', 'bowlful', 'bowlfuls'),
  ...aliases('shot', 'shot', 'shots'),
  ...aliases(
    'piece',
    'piece',
    'pieces',
    'pc',
    'pcs',
    'fillet',
    'fillets',
    'stick',
    'sticks',
    'clove',
    'cloves',
    'leaf',
    'leaves',
    'square',
    'squares',
  ),
  ...aliases('slice', 'slice', 'slices', 'rasher', 'rashers', 'strip', 'strips', 'wedge', 'wedges'),
  // A handful is what a serving of nuts or dried fruit is meant to look like.
  ...aliases(
    'serving',
    'serving',
    'servings',
    'portion',
    'portions',
    'helping',
    'helpings',
    'handful',
    'handfuls',
  ),
  ...aliases('scoop', 'scoop', 'scoops'),
]);

/** The longest alias in words, so the parser knows how far ahead to look. */
export const LONGEST_UNIT_ALIAS = Math.max(
  ...[...UNIT_ALIASES.keys()].map((key) => key.split(' ').length),
);

export const SIZE_WORDS: ReadonlyMap<string, SizeWord> = new Map<string, SizeWord>([
  ['small', 'small'],
  ['medium', 'medium'],
  ['regular', 'medium'],
  ['large', 'large'],
  ['big', 'large'],
]);

function aliases(unit: MeasureUnit, ...spellings: string[]): [string, MeasureUnit][] {
  return spellings.map((spelling) => [spelling, unit]);
}

export function isPortionName(unit: string): unit is PortionName {
  return PORTION_NAMES.has(unit);
}

/** Drinks and soups: the foods a glass, can, bottle or shot can be filled with. */
function isLiquid(food: FoodRecord): boolean {
  return food.category === 'drink' || food.category === 'alcohol' || food.category === 'soup';
}

/**
 * Density from the food's own cup weight (a cup of flour is not a cup of water); without one, the
 * food is taken to weigh as much as water.
 */
export function gramsPerMillilitre(food: FoodRecord): number {
  return food.portions.cup === undefined ? 1 : food.portions.cup / MILLILITRES.cup;
}

/**
 * Grams in one `unit` of `food`, or undefined when the unit does not apply to it ("a slice of
 * milk", "a glass of rice"). A weight the food gives for the unit always wins over a conversion.
 */
export function gramsPerUnit(food: FoodRecord, unit: MealUnit): number | undefined {
  if (Object.hasOwn(GRAMS, unit)) return GRAMS[unit as MassUnit];
  const own = isPortionName(unit) ? food.portions[unit] : undefined;
  if (own !== undefined) return own;
  if (!Object.hasOwn(MILLILITRES, unit)) return undefined;
  if (CONTAINERS.has(unit)) {
    const fits = isLiquid(food) || (unit === 'bowl' && food.portions.cup !== undefined);
    if (!fits) return undefined;
  }
  return MILLILITRES[unit as VolumeUnit | ContainerUnit] * gramsPerMillilitre(food);
}
