import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { BuiltinMealAnalyzer } from './builtin-meal.analyzer';
import { HttpMealAnalyzer } from './http-meal.analyzer';
import { MealAnalyzer } from './meal-analyzer.port';

/** The built-in analyzer by default; an external service when ANALYZER_URL is set. */
@Module({
  providers: [
    {
      provide: MealAnalyzer,
      inject: [AppConfig],
      useFactory: (config: AppConfig): MealAnalyzer =>
        config.analyzer.url === null
          ? new BuiltinMealAnalyzer()
          : new HttpMealAnalyzer(config.analyzer.url, config.analyzer.timeoutMs),
    },
  ],
  exports: [MealAnalyzer],
})
export class MealAnalysisModule {}
