import type { MealLogView } from '../meal-logs/meal-log.view';

/** Longest meal text quoted in an alert; iOS shows about four lines, APNs takes 4 KiB in all. */
const MAX_QUOTED_CHARS = 120;

export interface PushAlert {
  title: string;
  body: string;
}

/** The user's words as typed, shortened at a word boundary when long. */
function quoted(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= MAX_QUOTED_CHARS) return flat;
  const cut = flat.slice(0, MAX_QUOTED_CHARS - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > MAX_QUOTED_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/**
 * What a push says about a finished meal log: what was found and its energy ("1 small apple ·
 * 77 kcal"), that nothing in it was recognised, or that it could not be analysed.
 */
export function pushAlertFor(mealLog: MealLogView): PushAlert {
  const text = quoted(mealLog.text);
  if (mealLog.status === 'failed')
    return { title: 'Meal not analysed', body: `“${text}” could not be analysed.` };
  if (mealLog.items.length === 0 || mealLog.totals === null)
    return { title: 'No food recognised', body: `Nothing in “${text}” matched a food we know.` };
  return {
    title: 'Meal analysed',
    body: `${text} · ${Math.round(mealLog.totals.calories)} kcal`,
  };
}
