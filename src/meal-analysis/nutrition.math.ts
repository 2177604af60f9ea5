import type { AnalyzedItem, NutritionTotals } from './meal-analysis.types';

/**
 * Rounds a non-negative value half up at `decimals` places. The detour through 12 significant
 * digits makes 1.005 round to 1.01 although 1.005 * 100 is 100.49999999999999 in binary.
 */
function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(Number((value * factor).toPrecision(12))) / factor;
}

/** Calories to whole kcal, macros to 0.1 g: finer would be false precision for a text estimate. */
export function roundNutrition(values: NutritionTotals): NutritionTotals {
  return {
    calories: round(values.calories, 0),
    proteinG: round(values.proteinG, 1),
    carbsG: round(values.carbsG, 1),
    fatG: round(values.fatG, 1),
  };
}

export function roundItem(item: AnalyzedItem): AnalyzedItem {
  return {
    name: item.name,
    quantity: round(item.quantity, 2),
    unit: item.unit,
    grams: round(item.grams, 1),
    ...roundNutrition(item),
  };
}

/**
 * Sums the unrounded items and rounds once at the end, so rounding errors of many small items do
 * not add up in the totals.
 */
export function totalNutrition(items: readonly NutritionTotals[]): NutritionTotals {
  const sum = { calories: 0, proteinG: 0, carbsG: 0, fatG: 0 };
  for (const item of items) {
    sum.calories += item.calories;
    sum.proteinG += item.proteinG;
    sum.carbsG += item.carbsG;
    sum.fatG += item.fatG;
  }
  return roundNutrition(sum);
}
