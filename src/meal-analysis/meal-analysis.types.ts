/** Energy and macronutrients. Calories are whole kcal; the macros are grams to one decimal. */
export interface NutritionTotals {
  calories: number;
  proteinG: number;
  carbsG: number;
  fatG: number;
}

/** One food found in the text, with the amount it was understood as. */
export interface AnalyzedItem extends NutritionTotals {
  name: string;
  quantity: number;
  unit: string;
  grams: number;
}

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
