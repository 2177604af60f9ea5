import type { MealAnalysis } from './meal-analysis.types';

/**
 * Turns a free-text meal description into foods and nutrition. An abstract class rather than an
 * interface so that it can be the Nest DI token itself.
 *
 * Implementations reject with `MealAnalysisError`, whose `retryable` flag tells the caller whether
 * trying the same text again can help.
 */
export abstract class MealAnalyzer {
  abstract analyze(text: string): Promise<MealAnalysis>;
}
