import { Injectable } from '@nestjs/common';
import { MealAnalysisError } from './meal-analysis.error';
import type { AnalyzedItem, MealAnalysis } from './meal-analysis.types';
import { MealAnalyzer } from './meal-analyzer.port';
import { parseMealText, type ParsedItem } from './meal-text.parser';
import { roundItem, totalNutrition } from './nutrition.math';

/** Long texts are cut in error messages, which end up stored with the meal log and shown. */
const MAX_QUOTED_CHARS = 80;

/** Analyses meals offline with the built-in parser and food catalog (USDA FoodData Central). */
@Injectable()
export class BuiltinMealAnalyzer extends MealAnalyzer {
  // Synchronous work behind an async interface: the port also fits analyzers that do I/O.
  analyze(text: string): Promise<MealAnalysis> {
    try {
      return Promise.resolve(this.analyzeNow(text));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private analyzeNow(text: string): MealAnalysis {
    const parsed = parseMealText(text);
    if (parsed.items.length === 0) {
      // Retrying cannot help: the same words will not become food on a second attempt.
      throw new MealAnalysisError(noFoodMessage(text, parsed.unrecognized), false);
    }
    const exact = parsed.items.map(nutritionOf);
    return {
      items: exact.map(roundItem),
      totals: totalNutrition(exact),
      unrecognized: parsed.unrecognized,
    };
  }
}

function nutritionOf(item: ParsedItem): AnalyzedItem {
  const share = item.grams / 100;
  return {
    name: item.food.name,
    quantity: item.quantity,
    unit: item.unit,
    grams: item.grams,
    calories: item.food.kcal * share,
    proteinG: item.food.proteinG * share,
    carbsG: item.food.carbsG * share,
    fatG: item.food.fatG * share,
  };
}

function noFoodMessage(text: string, unrecognized: readonly string[]): string {
  if (unrecognized.length === 0 && text.trim() === '')
    return 'No food recognised: the text is empty';
  // Naming the unknown words tells the user what to rephrase; fall back to the text itself when
  // it held only amounts and filler ("2 cups of").
  const quoted =
    unrecognized.length > 0 ? unrecognized.join(' ') : text.trim().replace(/\s+/g, ' ');
  const shown =
    quoted.length > MAX_QUOTED_CHARS ? `${quoted.slice(0, MAX_QUOTED_CHARS - 1)}…` : quoted;
  return `No food recognised in "${shown}"`;
}
