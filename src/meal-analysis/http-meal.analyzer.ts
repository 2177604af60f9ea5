import { MealAnalysisError } from './meal-analysis.error';
import type { AnalyzedItem, MealAnalysis } from './meal-analysis.types';
import { MealAnalyzer } from './meal-analyzer.port';
import { roundItem, totalNutrition } from './nutrition.math';

const NUMERIC_FIELDS = ['quantity', 'grams', 'calories', 'proteinG', 'carbsG', 'fatG'] as const;

/**
 * Delegates analysis to an external service: POST `{"text": "..."}` as JSON, answered by
 * `{"items": [{name, quantity, unit, grams, calories, proteinG, carbsG, fatG}], "unrecognized"?: []}`.
 *
 * The answer is validated strictly, since it ends up in stored meal logs. Failures are sorted by
 * whether trying again can help: timeouts, network errors, 5xx, 408 and 429 can; other 4xx
 * answers and malformed bodies cannot, because the same request will get the same answer.
 *
 * The meal text is personal data: it is sent, never logged, and kept out of every message of a
 * retryable error (those are logged by the job runner).
 */
export class HttpMealAnalyzer extends MealAnalyzer {
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {
    super();
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      throw new Error(
        `Meal analysis timeout must be a positive number of milliseconds, got ${timeoutMs}`,
      );
    }
  }

  async analyze(text: string): Promise<MealAnalysis> {
    const body = await this.post(text);
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch (error) {
      const message = 'The meal analysis service answered with malformed JSON';
      throw new MealAnalysisError(message, false, { cause: error });
    }
    return toAnalysis(payload);
  }

  /** The response body of a 2xx answer; every other outcome becomes a MealAnalysisError. */
  private async post(text: string): Promise<string> {
    // One deadline for connecting, the status line and the whole body: a service that stalls
    // mid-body must not hold the job longer than one that never answers.
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ text }),
        signal,
      });
      if (!response.ok) {
        // The body is not needed (and may echo the text); release the connection.
        await response.body?.cancel().catch(() => undefined);
        throw statusError(response.status);
      }
      return await response.text();
    } catch (error) {
      if (error instanceof MealAnalysisError) throw error;
      if (signal.aborted) {
        throw new MealAnalysisError(
          `The meal analysis service did not answer within ${this.timeoutMs} ms`,
          true,
          { cause: error },
        );
      }
      const reason = describe(error);
      throw new MealAnalysisError(
        `The meal analysis service could not be reached (${reason})`,
        true,
        { cause: error },
      );
    }
  }
}

function statusError(status: number): MealAnalysisError {
  if (status >= 500) {
    return new MealAnalysisError(`The meal analysis service failed (HTTP ${status})`, true);
  }
  // Request timeout and rate limiting are 4xx by number but temporary by meaning.
  if (status === 408 || status === 429) {
    return new MealAnalysisError(`The meal analysis service is busy (HTTP ${status})`, true);
  }
  if (status >= 400) {
    return new MealAnalysisError(
      `The meal analysis service rejected the meal (HTTP ${status})`,
      false,
    );
  }
  return new MealAnalysisError(
    `The meal analysis service answered with unexpected HTTP ${status}`,
    false,
  );
}

/**
 * A network error's code ("ECONNREFUSED"), which fetch hides in `cause`. Never the error's message:
 * undici puts the URL there, and a service URL may carry an API key.
 */
function describe(error: unknown): string {
  // Duck-typed: errors thrown inside fetch may come from another realm (e.g. a test VM).
  const cause: unknown =
    typeof error === 'object' && error !== null && 'cause' in error ? error.cause : undefined;
  if (
    typeof cause === 'object' &&
    cause !== null &&
    'code' in cause &&
    typeof cause.code === 'string'
  ) {
    return cause.code;
  }
  return 'network error';
}

function invalid(reason: string): MealAnalysisError {
  return new MealAnalysisError(
    `The meal analysis service answered with an invalid result: ${reason}`,
    false,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toAnalysis(payload: unknown): MealAnalysis {
  if (!isRecord(payload)) throw invalid('expected a JSON object');
  if (!Array.isArray(payload.items)) throw invalid('"items" must be an array');
  const items = payload.items.map((item: unknown, index) => toItem(item, index));
  const unrecognized = toUnrecognized(payload.unrecognized);
  if (items.length === 0) {
    const words = unrecognized.length > 0 ? ` in "${unrecognized.join(' ')}"` : '';
    throw new MealAnalysisError(`No food recognised${words}`, false);
  }
  return { items: items.map(roundItem), totals: totalNutrition(items), unrecognized };
}

function toItem(value: unknown, index: number): AnalyzedItem {
  const where = `items[${index}]`;
  if (!isRecord(value)) throw invalid(`${where} must be an object`);
  const { name, unit } = value;
  if (typeof name !== 'string' || name.trim() === '')
    throw invalid(`${where}.name must be a non-empty string`);
  if (typeof unit !== 'string' || unit.trim() === '')
    throw invalid(`${where}.unit must be a non-empty string`);
  const numbers = {} as Record<(typeof NUMERIC_FIELDS)[number], number>;
  for (const field of NUMERIC_FIELDS) {
    const number = value[field];
    if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) {
      throw invalid(`${where}.${field} must be a finite number >= 0`);
    }
    numbers[field] = number;
  }
  return { name: name.trim(), unit: unit.trim(), ...numbers };
}

function toUnrecognized(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((word): word is string => typeof word === 'string')) {
    throw invalid('"unrecognized" must be an array of strings');
  }
  return value;
}
