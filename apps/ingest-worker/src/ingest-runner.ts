import { createServer, Server } from 'node:http';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { topicNames } from '@flywheel/contracts';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { DatabaseHealth, SatisfactionRepository } from '@flywheel/database';
import { SATISFACTION_POLICIES } from '@flywheel/satisfaction';
import { BatchConsumer, KafkaPublisher, createKafka } from '@flywheel/kafka';
import { FeedbackEventsConsumer } from './feedback-events.consumer';
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
    private readonly handler: FeedbackEventsConsumer,
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
      onRetry: (error, attempt, topic, partition) => {
        this.metrics.recordRetry();
        this.logger.warn({ msg: 'batch_retry', topic, partition, attempt, err: error });
      },
      onDeadLetters: (count, topic) => {
        this.metrics.recordDeadLetters(topic, count);
        this.logger.warn({ msg: 'batch_dead_lettered', topic, count });
      },
      onBatchDone: ({ topic, partition, lag }) => this.metrics.recordLag(topic, partition, lag),
    }, (topic, partition, messages) => this.handler.handle(topic, partition, messages));
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

  private startServer(): Promise<void> {
    this.server = createServer(async (req, res) => {
      if (req.url === '/metrics') {
        res.setHeader('content-type', this.metrics.registry.contentType);
        res.end(await this.metrics.registry.metrics());
      } else if (req.url === '/health/live') {
        res.end('{"status":"ok"}');
      } else if (req.url === '/health/ready') {
        const ok = this.consuming && (await this.database.ping().then(() => true, () => false));
        res.statusCode = ok ? 200 : 503;
        res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', consuming: this.consuming }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    return new Promise((resolve) => this.server!.listen(this.config.worker.metricsPort, this.config.api.host, () => resolve()));
  }
}
