import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { Metrics } from './metrics';
import { MetricsTokenGuard } from './metrics-token.guard';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [Metrics, MetricsTokenGuard],
  exports: [Metrics],
})
export class MetricsModule {}
