import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsISO8601, IsOptional, IsString, Length } from 'class-validator';
import { MEAL_TYPES, MealType } from '../meal-log.view';

export class CreateMealLogDto {
  @ApiProperty({ example: '1 small apple', minLength: 1, maxLength: 1000 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(1, 1000, { message: 'text must be 1 to 1000 characters after trimming' })
  text!: string;

  @ApiPropertyOptional({ enum: MEAL_TYPES })
  @IsOptional()
  @IsIn(MEAL_TYPES)
  mealType?: MealType;

  @ApiPropertyOptional({
    example: '2026-11-21T12:30:00Z',
    description: 'When the meal was eaten; defaults to now',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  loggedAt?: string;
}
