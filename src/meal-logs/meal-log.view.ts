import {
  Guard,
  isArrayOf,
  isIsoInstant,
  isNullable,
  isObjectOf,
  isOneOf,
  isString,
} from '../common/shape';
import {
  AnalyzedItem,
  isAnalyzedItem,
  isNutritionTotals,
  NutritionTotals,
} from '../meal-analysis/meal-analysis.types';

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

/**
 * The version of a log, for ETag and If-None-Match: a log changes once, when its analysis ends,
 * which sets its status and completedAt together; nothing else about it ever changes.
 */
export function mealLogEtag(mealLog: Pick<MealLogView, 'status' | 'completedAt'>): string {
  const completedAt = mealLog.completedAt === null ? 0 : Date.parse(mealLog.completedAt);
  return `W/"${mealLog.status}-${completedAt}"`;
}

export const isMealLogView: Guard<MealLogView> = isObjectOf<MealLogView>({
  id: isString,
  status: isOneOf(MEAL_LOG_STATUSES),
  text: isString,
  mealType: isNullable(isOneOf(MEAL_TYPES)),
  loggedAt: isIsoInstant,
  createdAt: isIsoInstant,
  completedAt: isNullable(isIsoInstant),
  items: isArrayOf(isAnalyzedItem),
  totals: isNullable(isNutritionTotals),
  unrecognized: isArrayOf(isString),
  error: isNullable(isString),
});
