import { NestFactory } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { AppModule } from '../../src/app.module';
import { buildOpenApiDocument } from '../../src/common/openapi.document';
import { loadConfig } from '../../src/config/config.loader';
import { httpAdapter } from '../../src/main';

/**
 * The document the service serves at /docs-json, made without a database: in preview mode Nest
 * builds the module graph (controllers, their routes and DTOs) but instantiates no provider.
 */
export async function generateOpenApiDocument(): Promise<OpenAPIObject> {
  const config = loadConfig({});
  const app = await NestFactory.create(AppModule.forRoot(config), httpAdapter(config), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return buildOpenApiDocument(app);
  } finally {
    await app.close();
  }
}
