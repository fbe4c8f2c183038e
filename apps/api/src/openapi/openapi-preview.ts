import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { OpenAPIObject } from '@nestjs/swagger';
import { AppModule } from '../app.module';
import { buildOpenApiDocument } from './openapi-document';

export interface RegisteredRoute {
  method: string;
  /** Fastify's form: `/v1/models/:id`. */
  url: string;
}

/**
 * The api's OpenAPI document and every route Nest registers on Fastify, without PostgreSQL or Kafka: Nest's preview
 * mode reads the controllers' metadata and instantiates nothing, yet registers the routes.
 */
export async function openApiPreview(): Promise<{ document: OpenAPIObject; routes: RegisteredRoute[] }> {
  const adapter = new FastifyAdapter();
  const routes: RegisteredRoute[] = [];
  adapter.getInstance().addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url ?? route.path });
  });
  const app = await NestFactory.create(AppModule, adapter, { preview: true, logger: false });
  try {
    await app.init();
    return { document: buildOpenApiDocument(app), routes };
  } finally {
    await app.close();
  }
}
