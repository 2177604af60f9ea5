import {
  Body,
  Controller,
  Delete,
  HttpCode,
  HttpStatus,
  Param,
  Put,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { DevicePushTokenRepository } from './device-push-token.repository';
import { DeviceParams, PushTokenDto } from './dto/push-token.dto';

@ApiTags('devices')
@ApiBearerAuth()
@ApiErrors(503)
@UseGuards(JwtAuthGuard)
@Controller('api/v1/devices/:deviceId/push-token')
export class DevicesController {
  constructor(private readonly tokens: DevicePushTokenRepository) {}

  @Put()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Registers the device’s APNs token for the token’s user' })
  @ApiNoContentResponse({ description: 'Registered (moved here if another user held it)' })
  async register(
    @CurrentUser() user: AuthenticatedUser,
    @Param() { deviceId }: DeviceParams,
    @Body() body: PushTokenDto,
  ): Promise<void> {
    await this.tokens.register(user.userId, deviceId, body.token, body.environment ?? 'production');
  }

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Removes the device’s APNs token (also when it has none)' })
  @ApiNoContentResponse({ description: 'Removed' })
  async remove(
    @CurrentUser() user: AuthenticatedUser,
    @Param() { deviceId }: DeviceParams,
  ): Promise<void> {
    await this.tokens.remove(user.userId, deviceId);
  }
}
