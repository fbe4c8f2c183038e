import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PartitionWait } from '@flywheel/kafka';

/** Prometheus metrics of the ingest-worker, served on WORKER_METRICS_PORT at /metrics. */
@Injectable()
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly persisted = new Counter({ name: 'flywheel_events_persisted_total', help: 'Events newly stored', registers: [this.registry] });
  private readonly deduplicated = new Counter({ name: 'flywheel_events_deduplicated_total', help: 'Events already stored (replays, retries)', registers: [this.registry] });
  private readonly deadLettered = new Counter({ name: 'flywheel_messages_dead_lettered_total', help: 'Messages sent to a dead-letter topic', labelNames: ['topic'], registers: [this.registry] });
  private readonly droppedDeleted = new Counter({ name: 'flywheel_events_dropped_deleted_user_total', help: 'Events of deleted users dropped by their tombstone (late deliveries, retries)', registers: [this.registry] });
  private readonly generations = new Counter({ name: 'flywheel_generations_persisted_total', help: 'Generations newly stored', registers: [this.registry] });
  private readonly retries = new Counter({ name: 'flywheel_batch_retries_total', help: 'Batch attempts that failed and were retried (transient, or unknown within its bound)', registers: [this.registry] });
  private readonly batchSize = new Histogram({ name: 'flywheel_batch_size', help: 'Messages per consumed batch', buckets: [1, 10, 50, 100, 500, 1000, 5000, 20000], registers: [this.registry] });
  private readonly txSeconds = new Histogram({ name: 'flywheel_batch_transaction_seconds', help: 'Database transaction time per batch', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry] });
  private readonly splits = new Counter({ name: 'flywheel_batch_splits_total', help: 'Runs of messages split in two after a permanent failure, to find the message at fault', labelNames: ['topic'], registers: [this.registry] });
  private waits: () => PartitionWait[] = () => [];
  private readonly stalled = new Gauge({
    name: 'flywheel_worker_partition_stalled_seconds',
    help: 'Seconds a partition has had messages waiting without its offset moving (0: advancing or caught up); stalled past WORKER_STALL_AFTER_MS',
    labelNames: ['topic', 'partition'],
    registers: [this.registry],
    collect: () => {
      this.stalled.reset();
      for (const w of this.waits()) this.stalled.set({ topic: w.topic, partition: String(w.partition) }, w.seconds);
    },
  });
  private readonly lag = new Gauge({ name: 'flywheel_consumer_lag', help: 'Messages behind the high watermark after the last batch', labelNames: ['topic', 'partition'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  recordEventsBatch(b: { persisted: number; deduplicated: number; droppedDeleted: number; batchSize: number; transactionSeconds: number }): void {
    this.persisted.inc(b.persisted);
    this.droppedDeleted.inc(b.droppedDeleted);
    this.deduplicated.inc(b.deduplicated);
    this.batchSize.observe(b.batchSize);
    this.txSeconds.observe(b.transactionSeconds);
  }

  recordGenerations(persisted: number, duplicates: number): void {
    this.generations.inc(persisted);
    this.deduplicated.inc(duplicates);
  }

  recordDeadLetters(topic: string, count: number): void {
    this.deadLettered.inc({ topic }, count);
  }

  watchPartitions(waits: () => PartitionWait[]): void {
    this.waits = waits;
  }

  recordSplit(topic: string): void {
    this.splits.inc({ topic });
  }

  recordRetry(): void {
    this.retries.inc();
  }

  recordLag(topic: string, partition: number, lag: number): void {
    this.lag.set({ topic, partition: String(partition) }, lag);
  }
}
