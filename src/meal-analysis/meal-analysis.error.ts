/**
 * A failed analysis. The message is meant for the person who wrote the meal text (or an operator),
 * so it says what went wrong in plain words.
 *
 * `retryable` is the analyzer's verdict on whether the same text can succeed later: a text without
 * any recognisable food never will (false), while a timeout or an overloaded external service may
 * (true).
 */
export class MealAnalysisError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MealAnalysisError';
  }
}
