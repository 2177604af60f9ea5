import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { parseInstant } from '../common/instant';
import { textProblem, TextRule } from '../common/text';
import type { CreateMealLog } from './dto/create-meal-log.dto';
import { MEAL_TYPES, MealType } from './meal-log.view';

/** The meal text's rule: the check below and the OpenAPI description both read it. */
export const MEAL_TEXT_RULE: TextRule = { min: 1, max: 1000, lineBreaks: true };
const FIELDS: ReadonlySet<string> = new Set(['text', 'mealType', 'loggedAt']);
const MEAL_TYPE_SET: ReadonlySet<unknown> = new Set(MEAL_TYPES);

/** As `@IsOptional` reads a field: `null` stands for an absent one. */
function isGiven(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/**
 * The POST body as a `CreateMealLog`, or every problem with it, each naming its field: the
 * hottest write route checks its three fields directly rather than through a class instance and
 * its validation metadata.
 */
export function readCreateMealLog(
  body: unknown,
): { ok: true; value: CreateMealLog } | { ok: false; problems: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, problems: ['the body must be a JSON object'] };
  }
  const fields = body as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(fields)) {
    if (!FIELDS.has(key)) problems.push(`property ${key} should not exist`);
  }
  const text = typeof fields.text === 'string' ? fields.text.trim() : undefined;
  const textIssue = text === undefined ? 'must be a string' : textProblem(text, MEAL_TEXT_RULE);
  if (textIssue !== null) problems.push(`text ${textIssue}`);
  const { mealType, loggedAt } = fields;
  if (isGiven(mealType) && !MEAL_TYPE_SET.has(mealType)) {
    problems.push(`mealType must be one of the following values: ${MEAL_TYPES.join(', ')}`);
  }
  if (isGiven(loggedAt) && (typeof loggedAt !== 'string' || parseInstant(loggedAt) === null)) {
    problems.push(
      'loggedAt must be an ISO-8601 instant with an offset, e.g. 2026-11-21T12:30:00Z, in years 1 to 9999',
    );
  }
  if (problems.length > 0) return { ok: false, problems };
  const value: CreateMealLog = { text: text! };
  if (isGiven(mealType)) value.mealType = mealType as MealType;
  if (isGiven(loggedAt)) value.loggedAt = loggedAt as string;
  return { ok: true, value };
}

/** `readCreateMealLog` as a pipe: a refused body is a 400 listing its problems. */
@Injectable()
export class CreateMealLogPipe implements PipeTransform<unknown, CreateMealLog> {
  transform(body: unknown): CreateMealLog {
    const read = readCreateMealLog(body);
    if (!read.ok) throw new BadRequestException(read.problems);
    return read.value;
  }
}
