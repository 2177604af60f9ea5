import type { AnalyzedItem, NutritionTotals } from '../meal-analysis/meal-analysis.types';

export const MEAL_TYPES = ['breakfast', 'lunch', 'dinner', 'snack'] as const;
export type MealType = (typeof MEAL_TYPES)[number];

export const MEAL_LOG_STATUSES = ['processing', 'completed', 'failed'] as const;
export type MealLogStatus = (typeof MEAL_LOG_STATUSES)[number];

/** A meal log as clients see it (REST body and notification `data`). */
export interface MealLogView {
  id: string;
  status: MealLogStatus;
  text: string;
  mealType: MealType | null;
  loggedAt: string;
  createdAt: string;
  completedAt: string | null;
  items: AnalyzedItem[];
  totals: NutritionTotals | null;
  unrecognized: string[];
  error: string | null;
}
