import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MEAL_TEXT_RULE } from '../create-meal-log.reader';
import { MEAL_TYPES, MealType } from '../meal-log.view';

/** A meal log as a client asks for it, once `readCreateMealLog` has accepted the body. */
export interface CreateMealLog {
  /** Trimmed. */
  text: string;
  mealType?: MealType;
  /** An instant `parseInstant` reads. */
  loggedAt?: string;
}

/** OpenAPI description of the POST body; the runtime check is `readCreateMealLog`. */
export class CreateMealLogDto implements CreateMealLog {
  @ApiProperty({
    example: '1 small apple',
    minLength: MEAL_TEXT_RULE.min,
    maxLength: MEAL_TEXT_RULE.max,
  })
  text!: string;

  @ApiPropertyOptional({ enum: MEAL_TYPES })
  mealType?: MealType;

  @ApiPropertyOptional({
    example: '2026-11-21T12:30:00Z',
    description: 'When the meal was eaten (a date, or a date-time with an offset); defaults to now',
  })
  loggedAt?: string;
}
