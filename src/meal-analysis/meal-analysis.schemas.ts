import { number, objectSchema, PropertySchemas, Schema, text } from '../common/json-schema';
import type { AnalyzedItem, NutritionTotals } from './meal-analysis.types';

const NUTRITION_PROPERTIES: PropertySchemas<NutritionTotals> = {
  calories: number({ description: 'Whole kcal', examples: [77] }),
  proteinG: number({ description: 'Grams, to one decimal', examples: [0.4] }),
  carbsG: number({ description: 'Grams, to one decimal', examples: [20.6] }),
  fatG: number({ description: 'Grams, to one decimal', examples: [0.2] }),
};

export const NUTRITION_TOTALS_SCHEMA: Schema<NutritionTotals> = objectSchema<NutritionTotals>(
  NUTRITION_PROPERTIES,
  { title: 'NutritionTotals' },
);

export const ANALYZED_ITEM_SCHEMA: Schema<AnalyzedItem> = objectSchema<AnalyzedItem>(
  {
    ...NUTRITION_PROPERTIES,
    name: text({ examples: ['apple'] }),
    quantity: number({ examples: [1] }),
    unit: text({ examples: ['small'] }),
    grams: number({ examples: [149] }),
  },
  { title: 'MealLogItem' },
);
