import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { DEVICE_ID, PUSH_ENVIRONMENTS, PushEnvironment } from '../push-target';

export class DeviceParams {
  @ApiProperty({ example: 'E621E1F8-C36C-495A-93FC-0C247A3E6E5F', pattern: DEVICE_ID.source })
  @Matches(DEVICE_ID, { message: 'deviceId must be 1-64 characters of [A-Za-z0-9._-]' })
  deviceId!: string;
}

export class PushTokenDto {
  @ApiProperty({
    description: 'The APNs device token, hex (what registerForRemoteNotifications hands the app)',
    example: '740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad',
    pattern: '^[0-9a-fA-F]{64,200}$',
  })
  // Apple's tokens are case-insensitive hex; stored lower-case so one token is one row.
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.toLowerCase() : value,
  )
  @IsString({ message: 'token must be a hex string' })
  @Matches(/^[0-9a-f]{64,200}$/, { message: 'token must be 64 to 200 hex characters' })
  token!: string;

  @ApiPropertyOptional({ enum: PUSH_ENVIRONMENTS, default: 'production' })
  @IsOptional()
  @IsIn(PUSH_ENVIRONMENTS, { message: 'environment must be "production" or "sandbox"' })
  environment?: PushEnvironment;
}
