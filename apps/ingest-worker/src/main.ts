import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { PinoNestLogger } from '@flywheel/config';
import { IngestWorkerModule } from './ingest-worker.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.createApplicationContext(IngestWorkerModule, { logger: new PinoNestLogger() });
  app.enableShutdownHooks();
}

void bootstrap();
