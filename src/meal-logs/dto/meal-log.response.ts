import { ApiProperty } from '@nestjs/swagger';
import { MEAL_LOG_STATUSES, MEAL_TYPES, MealLogStatus, MealType } from '../meal-log.view';

/**
 * OpenAPI description of a MealLog; the runtime shape is `MealLogView`. Every property names its
 * type: a union such as `string | null` reaches Swagger as `Object`.
 */
export class NutritionTotalsResponse {
  @ApiProperty({ type: Number, example: 77 }) calories!: number;
  @ApiProperty({ type: Number, example: 0.4 }) proteinG!: number;
  @ApiProperty({ type: Number, example: 20.6 }) carbsG!: number;
  @ApiProperty({ type: Number, example: 0.2 }) fatG!: number;
}

export class MealLogItemResponse extends NutritionTotalsResponse {
  @ApiProperty({ type: String, example: 'apple' }) name!: string;
  @ApiProperty({ type: Number, example: 1 }) quantity!: number;
  @ApiProperty({ type: String, example: 'small' }) unit!: string;
  @ApiProperty({ type: Number, example: 149 }) grams!: number;
}

export class MealLogResponse {
  @ApiProperty({ type: String, format: 'uuid' }) id!: string;

  @ApiProperty({
    enum: MEAL_LOG_STATUSES,
    enumName: 'MealLogStatus',
    description: 'processing until analysed; then completed (items, totals) or failed (error)',
  })
  status!: MealLogStatus;

  @ApiProperty({ type: String, example: '1 small apple' }) text!: string;

  @ApiProperty({ enum: MEAL_TYPES, enumName: 'MealType', nullable: true })
  mealType!: MealType | null;

  @ApiProperty({ type: String, format: 'date-time' }) loggedAt!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When analysis ended; null while processing',
  })
  completedAt!: string | null;

  @ApiProperty({ type: [MealLogItemResponse], description: 'Empty until completed' })
  items!: MealLogItemResponse[];

  @ApiProperty({
    type: NutritionTotalsResponse,
    nullable: true,
    description: 'null until completed',
  })
  totals!: NutritionTotalsResponse | null;

  @ApiProperty({ type: [String], description: 'Words of the text that matched no food' })
  unrecognized!: string[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Why analysis failed, when status is failed; else null',
  })
  error!: string | null;
}

export class MealLogPageResponse {
  @ApiProperty({ type: [MealLogResponse], description: 'Newest first' })
  items!: MealLogResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The cursor of the next page; null on the last',
  })
  nextCursor!: string | null;
}
