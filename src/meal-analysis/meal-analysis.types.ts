import { Guard, isFiniteNumber, isObjectOf, isString } from '../common/shape';

/** Energy and macronutrients. Calories are whole kcal; the macros are grams to one decimal. */
export interface NutritionTotals {
  calories: number;
  proteinG: number;
  carbsG: number;
  fatG: number;
}

const NUTRITION_FIELDS = {
  calories: isFiniteNumber,
  proteinG: isFiniteNumber,
  carbsG: isFiniteNumber,
  fatG: isFiniteNumber,
};

export const isNutritionTotals: Guard<NutritionTotals> = isObjectOf(NUTRITION_FIELDS);

/** One food found in the text, with the amount it was understood as. */
export interface AnalyzedItem extends NutritionTotals {
  name: string;
  quantity: number;
  unit: string;
  grams: number;
}

export const isAnalyzedItem: Guard<AnalyzedItem> = isObjectOf<AnalyzedItem>({
  ...NUTRITION_FIELDS,
  name: isString,
  quantity: isFiniteNumber,
  unit: isString,
  grams: isFiniteNumber,
});

/**
 * The result of analysing one meal description. `totals` are summed from the unrounded item values
 * and rounded afterwards, so they can differ by a rounding step from the sum of the shown items.
 */
export interface MealAnalysis {
  items: AnalyzedItem[];
  totals: NutritionTotals;
  /** Words that were neither food, amount nor filler: reported, never guessed at. */
  unrecognized: string[];
}
