import { ApiProperty } from '@nestjs/swagger';
import { APP_STATES, AppState } from '../../realtime/client-frame.parser';
import { END_REASONS, EndReason } from '../live-session';

/** OpenAPI description of a live Session; the runtime shape is `SessionView`. */
export class SessionResponse {
  @ApiProperty({ type: String, format: 'uuid' }) sessionId!: string;
  @ApiProperty({ type: String }) userId!: string;

  @ApiProperty({ type: String, nullable: true, description: 'The deviceId the client gave' })
  deviceId!: string | null;

  @ApiProperty({ type: String, format: 'date-time' }) connectedAt!: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'The last inbound frame' })
  lastSeenAt!: string;

  @ApiProperty({ type: 'integer', minimum: 0 }) pings!: number;

  @ApiProperty({
    enum: APP_STATES,
    enumName: 'AppState',
    description: 'What the app reported last',
  })
  appState!: AppState;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When appState last changed; null while it is the initial foreground',
  })
  appStateChangedAt!: string | null;

  @ApiProperty({ type: String, nullable: true }) remoteAddress!: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent!: string | null;
}

export class AuditedSessionResponse extends SessionResponse {
  @ApiProperty({ type: String, format: 'date-time' }) endedAt!: string;

  @ApiProperty({
    enum: END_REASONS,
    enumName: 'EndReason',
    description:
      'lost: the process that held it died without closing it (recorded when the service starts again)',
  })
  endReason!: EndReason;
}

export class AuditedSessionPageResponse {
  @ApiProperty({ type: [AuditedSessionResponse], description: 'Newest first' })
  items!: AuditedSessionResponse[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The cursor of the next page; null on the last',
  })
  nextCursor!: string | null;
}

export class OnlineUserResponse {
  @ApiProperty({ type: String }) userId!: string;
  @ApiProperty({ type: String, format: 'date-time' }) lastSeenAt!: string;
  @ApiProperty({ type: [SessionResponse] }) sessions!: SessionResponse[];
}

export class PresenceOverviewResponse {
  @ApiProperty({ type: 'integer', minimum: 0 }) onlineUsers!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) sessions!: number;

  @ApiProperty({ type: [OnlineUserResponse], description: 'At most limit users' })
  users!: OnlineUserResponse[];
}

export class UserPresenceResponse {
  @ApiProperty({ type: String }) userId!: string;
  @ApiProperty({ type: Boolean }) online!: boolean;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'null for a user never seen',
  })
  lastSeenAt!: string | null;

  @ApiProperty({ type: [SessionResponse] }) sessions!: SessionResponse[];
}
