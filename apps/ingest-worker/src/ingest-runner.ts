import { createServer, Server } from 'node:http';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { topicNames } from '@flywheel/contracts';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { DatabaseHealth, SatisfactionRepository } from '@flywheel/database';
import { SATISFACTION_POLICIES } from '@flywheel/satisfaction';
import { describeFailure } from '@flywheel/errors';
import { BatchConsumer, KafkaPublisher, createKafka } from '@flywheel/kafka';
import { IngestBatchHandler } from './ingest-batch.handler';
import { WorkerMetrics } from './worker-metrics';

/** Owns the Kafka consumer and the small HTTP server for /metrics and /health/*. */
@Injectable()
export class IngestRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(IngestRunner.name);
  private consumer: BatchConsumer | null = null;
  private publisher: KafkaPublisher | null = null;
  private server: Server | null = null;
  private consuming = false;

  constructor(
    @Inject(FLYWHEEL_CONFIG) private readonly config: FlywheelConfig,
    private readonly handler: IngestBatchHandler,
    private readonly metrics: WorkerMetrics,
    private readonly database: DatabaseHealth,
    private readonly satisfaction: SatisfactionRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.satisfaction.ensurePolicies(Object.values(SATISFACTION_POLICIES).map((p) => ({ id: p.id, params: p })));
    const kafka = createKafka(this.config, 'ingest-worker');
    const topics = topicNames(this.config.kafka.topicPrefix);
    this.publisher = new KafkaPublisher(kafka, this.config.kafka.sendTimeoutMs);
    this.consumer = new BatchConsumer(kafka, this.publisher, {
      groupId: this.config.worker.groupId,
      topics: [topics.events, topics.generations],
      partitionsConsumedConcurrently: this.config.worker.partitionsConsumedConcurrently,
      maxBytesPerPartition: this.config.worker.maxBytesPerPartition,
      sessionTimeoutMs: this.config.worker.sessionTimeoutMs,
      stallAfterMs: this.config.worker.stallAfterMs,
      dependenciesAvailable: () => this.databaseAnswers(),
      onRetry: (error, attempt, topic, partition, failure) => {
        this.metrics.recordRetry();
        this.logger.warn({ msg: 'batch_retry', topic, partition, attempt, failure, err: error });
      },
      onSplit: ({ topic, partition, messages, error }) => {
        this.metrics.recordSplit(topic);
        this.logger.warn({ msg: 'batch_split', topic, partition, messages, reason: describeFailure(error) });
      },
      onDeadLetters: (count, topic) => {
        this.metrics.recordDeadLetters(topic, count);
        this.logger.warn({ msg: 'batch_dead_lettered', topic, count });
      },
      onBatchDone: ({ topic, partition, lag }) => this.metrics.recordLag(topic, partition, lag),
    }, (topic, partition, messages) => this.handler.handle(topic, partition, messages));
    this.metrics.watchPartitions(() => this.consumer?.partitionWaits() ?? []);
    await this.startServer();
    await this.consumer.start();
    this.consuming = true;
    this.logger.log({ msg: 'consuming', topics: [topics.events, topics.generations], group: this.config.worker.groupId });
  }

  async onApplicationShutdown(): Promise<void> {
    this.consuming = false;
    await this.consumer?.stop().catch(() => undefined);
    await this.publisher?.disconnect();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }

  private databaseAnswers(): Promise<boolean> {
    return this.database.ping().then(() => true, () => false);
  }

  private startServer(): Promise<void> {
    this.server = createServer(async (req, res) => {
      if (req.url === '/metrics') {
        res.setHeader('content-type', this.metrics.registry.contentType);
        res.end(await this.metrics.registry.metrics());
      } else if (req.url === '/health/live') {
        res.end('{"status":"ok"}');
      } else if (req.url === '/health/ready') {
        // Not ready: not consuming, the database does not answer, or a partition has not advanced for
        // WORKER_STALL_AFTER_MS while messages wait (503 "degraded", naming the partitions and the last error).
        const ok = this.consuming && (await this.databaseAnswers());
        const stalled = this.consumer?.stalledPartitions() ?? [];
        res.statusCode = ok && stalled.length === 0 ? 200 : 503;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ status: !ok ? 'unavailable' : stalled.length ? 'degraded' : 'ok', consuming: this.consuming, stalled }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    return new Promise((resolve) => this.server!.listen(this.config.worker.metricsPort, this.config.api.host, () => resolve()));
  }
}
