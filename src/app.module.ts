import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import { AdminConsoleModule } from './admin-console/admin-console.module';
import { AuthModule } from './auth/auth.module';
import { ClusterModule } from './cluster/cluster.module';
import { CommonModule } from './common/common.module';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DevicesModule } from './devices/devices.module';
import { GatewayModule } from './gateway/gateway.module';
import { HealthModule } from './health/health.module';
import { loggerOptions, ROOT_LOGGER, rootLogger } from './logging/logger.options';
import { MealLogsModule } from './meal-logs/meal-logs.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsModule } from './notifications/notifications.module';
import { PresenceModule } from './presence/presence.module';

@Module({})
export class AppModule {
  /** The configuration is validated before the module graph exists; see main.ts. */
  static forRoot(config: AppConfig): DynamicModule {
    const logger = rootLogger(config);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerOptions(logger)),
        ScheduleModule.forRoot(),
        CommonModule,
        MetricsModule,
        ClusterModule,
        DatabaseModule,
        AuthModule,
        HealthModule,
        MealLogsModule,
        PresenceModule,
        DevicesModule,
        NotificationsModule,
        GatewayModule,
        AdminConsoleModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: ROOT_LOGGER, useValue: logger },
      ],
    };
  }
}
