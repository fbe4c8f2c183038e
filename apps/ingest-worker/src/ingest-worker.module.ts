import { Module } from '@nestjs/common';
import { ConfigModule } from '@flywheel/config';
import { DatabaseModule } from '@flywheel/database';
import { IngestBatchHandler } from './ingest-batch.handler';
import { IngestRunner } from './ingest-runner';
import { WorkerMetrics } from './worker-metrics';

@Module({
  imports: [ConfigModule, DatabaseModule],
  providers: [IngestBatchHandler, WorkerMetrics, IngestRunner],
})
export class IngestWorkerModule {}
