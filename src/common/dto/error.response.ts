import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DOMAIN_ERROR_CODES, DomainErrorCode } from '../domain.error';

/** OpenAPI description of every 4xx/5xx body; the runtime shape is `HttpExceptionFilter`'s. */
export class ErrorResponse {
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 404 })
  statusCode!: number;

  @ApiProperty({ description: 'The status’s reason phrase', example: 'Not Found' })
  error!: string;

  @ApiProperty({
    description: 'What was wrong, naming the field; a list when several fields were refused',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'Meal log not found',
  })
  message!: string | string[];

  @ApiPropertyOptional({ enum: DOMAIN_ERROR_CODES, description: 'A stable code for clients' })
  code?: DomainErrorCode;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    description: 'On a 500: the id under which the error was logged',
  })
  errorId?: string;
}
