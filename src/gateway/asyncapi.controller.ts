import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { buildAsyncApiDocument } from './asyncapi.document';

/** The WebSocket protocol's AsyncAPI document, beside the REST API's OpenAPI one (/docs-json). */
@ApiExcludeController()
@Controller('docs')
export class AsyncApiController {
  private readonly document = JSON.stringify(buildAsyncApiDocument());

  @Get('asyncapi.json')
  @Header('Content-Type', 'application/json; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  asyncapi(): string {
    return this.document;
  }
}
