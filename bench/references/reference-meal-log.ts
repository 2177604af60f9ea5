import { MEAL_TEXT } from '../load/steady-rate';
import type { ReferenceServerFrame } from './reference-frames';

/** The MealLog columns MealPulse's REST API and notifications show. */
export const MEAL_LOG_COLUMNS = `id, status, text, meal_type, logged_at, created_at, completed_at,
  items, totals, unrecognized, error`;

export interface MealLogRow {
  id: string;
  status: string;
  text: string;
  meal_type: string | null;
  logged_at: Date;
  created_at: Date;
  completed_at: Date | null;
  items: unknown;
  totals: unknown;
  unrecognized: unknown;
  error: string | null;
}

/** A MealLog as MealPulse's REST API shows it (the `data` of a notification). */
export type MealLogView = Record<string, unknown> & { id: string; completedAt: string | null };

export function mealLogView(row: MealLogRow): MealLogView {
  return {
    id: row.id,
    status: row.status,
    text: row.text,
    mealType: row.meal_type,
    loggedAt: row.logged_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
    items: row.items,
    totals: row.totals,
    unrecognized: row.unrecognized,
    error: row.error,
  };
}

/**
 * What MealPulse's built-in analyser makes of MEAL_TEXT, as the JSON stored in `items` and
 * `totals`: the references store it rather than analyse, so that their frames carry the same
 * MealLog as MealPulse's, and are as long.
 */
export const ANALYSED_ITEMS_JSON =
  '[{"name":"apple","quantity":1,"unit":"small","grams":149,"calories":77,"proteinG":0.4,"carbsG":20.6,"fatG":0.3},' +
  '{"name":"egg","quantity":2,"unit":"piece","grams":100,"calories":155,"proteinG":12.6,"carbsG":1.1,"fatG":10.6}]';
export const ANALYSED_TOTALS_JSON = '{"calories":232,"proteinG":13,"carbsG":21.7,"fatG":10.9}';

/** The analysis of MEAL_TEXT as MealLog fields. */
export const MEAL_TEXT_ANALYSIS = {
  text: MEAL_TEXT,
  items: JSON.parse(ANALYSED_ITEMS_JSON) as unknown,
  totals: JSON.parse(ANALYSED_TOTALS_JSON) as unknown,
  unrecognized: [] as unknown[],
};

/**
 * Numbers each user's notifications in memory (MealPulse keeps a sequence row per user) and
 * serialises the `meal_log.completed` frame once, for every session of the user.
 */
export class CompletionFrames {
  private readonly seqs = new Map<string, number>();

  /** `mealLog` is a completed one: its `completedAt` is what the clients measure from. */
  frameOf(userId: string, mealLog: MealLogView & { completedAt: string }): string {
    const seq = (this.seqs.get(userId) ?? 0) + 1;
    this.seqs.set(userId, seq);
    const frame: ReferenceServerFrame = {
      type: 'notification',
      id: mealLog.id,
      seq,
      event: 'meal_log.completed',
      data: mealLog,
      createdAt: mealLog.completedAt,
    };
    return JSON.stringify(frame);
  }
}
