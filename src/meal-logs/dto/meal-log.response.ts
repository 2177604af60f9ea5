import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MEAL_LOG_STATUSES, MEAL_TYPES } from '../meal-log.view';

/** OpenAPI description of a MealLog; the runtime shape is `MealLogView`. */
export class NutritionTotalsResponse {
  @ApiProperty() calories!: number;
  @ApiProperty() proteinG!: number;
  @ApiProperty() carbsG!: number;
  @ApiProperty() fatG!: number;
}

export class MealLogItemResponse extends NutritionTotalsResponse {
  @ApiProperty({ example: 'apple' }) name!: string;
  @ApiProperty({ example: 1 }) quantity!: number;
  @ApiProperty({ example: 'small' }) unit!: string;
  @ApiProperty({ example: 149 }) grams!: number;
}

export class MealLogResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: MEAL_LOG_STATUSES }) status!: string;
  @ApiProperty() text!: string;
  @ApiProperty({ enum: MEAL_TYPES, nullable: true }) mealType!: string | null;
  @ApiProperty({ format: 'date-time' }) loggedAt!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true }) completedAt!: string | null;
  @ApiProperty({ type: [MealLogItemResponse] }) items!: MealLogItemResponse[];
  @ApiProperty({ type: NutritionTotalsResponse, nullable: true })
  totals!: NutritionTotalsResponse | null;
  @ApiPropertyOptional({ type: [String], description: 'Words of the text that matched no food' })
  unrecognized!: string[];
  @ApiProperty({ nullable: true, description: 'Why analysis failed, when status is failed' })
  error!: string | null;
}

export class MealLogPageResponse {
  @ApiProperty({ type: [MealLogResponse] }) items!: MealLogResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
