import { Module } from '@nestjs/common';
import { MealAnalysisModule } from '../meal-analysis/meal-analysis.module';
import { IdempotencyKeyPruner } from './idempotency-key.pruner';
import { IdempotencyKeyRepository } from './idempotency-key.repository';
import { MealLogJobRepository } from './meal-log-job.repository';
import { MealLogOutcomePublisher } from './meal-log-outcome.publisher';
import { MealLogResultWriter } from './meal-log-result.writer';
import { MealLogProcessor } from './meal-log.processor';
import { MealLogRepository } from './meal-log.repository';
import { MealLogWorker } from './meal-log.worker';
import { MealLogsController } from './meal-logs.controller';
import { MealLogsService } from './meal-logs.service';

@Module({
  imports: [MealAnalysisModule],
  controllers: [MealLogsController],
  providers: [
    MealLogsService,
    MealLogRepository,
    MealLogJobRepository,
    IdempotencyKeyRepository,
    IdempotencyKeyPruner,
    MealLogProcessor,
    MealLogResultWriter,
    MealLogWorker,
    MealLogOutcomePublisher,
  ],
  exports: [MealLogOutcomePublisher],
})
export class MealLogsModule {}
