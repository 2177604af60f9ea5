import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional } from 'class-validator';
import { IsInstant, StorableText } from '../../common/validation';
import { MEAL_TYPES, MealType } from '../meal-log.view';

export class CreateMealLogDto {
  @ApiProperty({ example: '1 small apple', minLength: 1, maxLength: 1000 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @StorableText({ min: 1, max: 1000, lineBreaks: true })
  text!: string;

  @ApiPropertyOptional({ enum: MEAL_TYPES })
  @IsOptional()
  @IsIn(MEAL_TYPES)
  mealType?: MealType;

  @ApiPropertyOptional({
    example: '2026-11-21T12:30:00Z',
    description: 'When the meal was eaten (a date, or a date-time with an offset); defaults to now',
  })
  @IsOptional()
  @IsInstant()
  loggedAt?: string;
}
