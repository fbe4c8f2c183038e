import { Module } from '@nestjs/common';
import { ConfigModule } from '@flywheel/config';
import { DatabaseModule } from '@flywheel/database';
import { FeedbackEventsConsumer } from './feedback-events.consumer';
import { IngestRunner } from './ingest-runner';
import { WorkerMetrics } from './worker-metrics';

@Module({
  imports: [ConfigModule, DatabaseModule],
  providers: [FeedbackEventsConsumer, WorkerMetrics, IngestRunner],
})
export class IngestWorkerModule {}
