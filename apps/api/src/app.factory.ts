import { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { PinoNestLogger, loadConfigOrExit, loggerFor } from '@flywheel/config';
import { ProjectsRepository } from '@flywheel/database';
import { AppModule } from './app.module';
import { registerCors } from './cors/cors';
import { MAX_PARAM_LENGTH, clientErrorHandler, frameworkErrors } from './errors/framework-errors';
import { HttpExceptionFilter } from './errors/http-exception.filter';
import { rejectUnstorableText } from './errors/text-guard';
import { createValidationPipe } from './errors/validation';
import { ApiMetrics } from './observability/api-metrics';
import { buildOpenApiDocument } from './openapi/openapi-document';
import { installRequestLog, requestId } from './observability/request-log';

const REWARDS_ROUTE = '/v1/rewards';

/** Builds the api (shared by main.ts and the in-process tests); logs through pino unless told otherwise. */
export async function createApiApp(logger: LoggerService | false = new PinoNestLogger()): Promise<NestFastifyApplication> {
  const config = loadConfigOrExit();
  const adapter = new FastifyAdapter({
    bodyLimit: config.api.bodyLimitBytes, genReqId: requestId,
    // Errors before any route (router, HTTP parser) in the documented shape too; see framework-errors.ts.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH }, frameworkErrors, clientErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, adapter, { logger, bufferLogs: false });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter());
  app.enableShutdownHooks();

  const fastify = app.getHttpAdapter().getInstance();
  // Before Nest registers its routes (at init): a 1,152-rollout batch of 512 features is ~12 MB of JSON numbers.
  fastify.addHook('onRoute', (route) => {
    if (route.url === REWARDS_ROUTE) route.bodyLimit = config.api.rewardsBodyLimitBytes;
  });
  installRequestLog(fastify, loggerFor('Http'));
  registerCors(fastify, config, app.get(ProjectsRepository));
  fastify.addHook('preHandler', rejectUnstorableText);
  const metrics = app.get(ApiMetrics);
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const route = request.routeOptions?.url ?? 'unmatched';
    metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}
