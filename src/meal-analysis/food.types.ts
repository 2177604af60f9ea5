export type FoodCategory =
  | 'fruit'
  | 'vegetable'
  | 'grain'
  | 'dairy'
  | 'egg'
  | 'meat'
  | 'fish'
  | 'legume'
  | 'nut'
  | 'snack'
  | 'sweet'
  | 'condiment'
  | 'drink'
  | 'alcohol'
  | 'soup'
  | 'dish'
  | 'fast-food';

/**
 * The named amounts a food can be measured in. Mass and plain volume units (g, ml, cup…) work for
 * every food; these names are what a food's `portions` may give a weight for.
 */
export type PortionName =
  | 'small'
  | 'medium'
  | 'large'
  | 'piece'
  | 'slice'
  | 'serving'
  | 'scoop'
  | 'cup'
  | 'tbsp'
  | 'tsp'
  | 'bowl'
  | 'glass'
  | 'can'
  | 'bottle'
  | 'shot';

/** One catalog food. Nutrition is per 100 g of the food as eaten (cooked where it is cooked). */
export interface FoodRecord {
  /** Canonical, lower-case, singular where natural: the name reported in results. */
  readonly name: string;
  readonly category: FoodCategory;
  readonly kcal: number;
  readonly proteinG: number;
  readonly carbsG: number;
  readonly fatG: number;
  /**
   * Grams of one portion. A `cup` weight also fixes the food's density for every volume unit
   * (a cup of cooked rice is 158 g, not 237 g); without one, volumes count as 1 g/ml.
   */
  readonly portions: Readonly<Partial<Record<PortionName, number>>>;
  /** What the bare name means ("banana", "some rice", "a coffee"). */
  readonly defaultPortion: PortionName;
  /**
   * What a bare number counts, when that differs from the default: "12 almonds" are 12 nuts while
   * "almonds" is a handful-sized serving.
   */
  readonly countPortion?: PortionName;
  /**
   * The amount used when the food is an unquantified extra ("coffee with milk", "toast with
   * butter"): a splash or a spread rather than a full glass or a full tablespoon-serving.
   */
  readonly addOn?: { readonly quantity: number; readonly portion: PortionName };
  readonly synonyms?: readonly string[];
}
