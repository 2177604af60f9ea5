import { arrayOf, nullable, objectSchema, oneOf, Schema, text } from '../common/json-schema';
import {
  ANALYZED_ITEM_SCHEMA,
  NUTRITION_TOTALS_SCHEMA,
} from '../meal-analysis/meal-analysis.schemas';
import { MEAL_LOG_STATUSES, MEAL_TYPES, MealLogView } from './meal-log.view';

const instant = text({ format: 'date-time' });

/** A MealLog as a JSON Schema, for the documents that carry one outside REST (the socket's). */
export const MEAL_LOG_SCHEMA: Schema<MealLogView> = objectSchema<MealLogView>(
  {
    id: text({ format: 'uuid' }),
    status: oneOf(MEAL_LOG_STATUSES, {
      description: 'processing until analysed; then completed (items, totals) or failed (error)',
    }),
    text: text({ examples: ['1 small apple'] }),
    mealType: nullable(oneOf(MEAL_TYPES)),
    loggedAt: instant,
    createdAt: instant,
    completedAt: nullable(instant, { description: 'When analysis ended; null while processing' }),
    items: arrayOf(ANALYZED_ITEM_SCHEMA, { description: 'Empty until completed' }),
    totals: nullable(NUTRITION_TOTALS_SCHEMA, { description: 'null until completed' }),
    unrecognized: arrayOf(text(), { description: 'Words of the text that matched no food' }),
    error: nullable(text(), {
      description: 'Why analysis failed, when status is failed; else null',
    }),
  },
  { title: 'MealLog', description: 'The same MealLog as in the REST API' },
);
