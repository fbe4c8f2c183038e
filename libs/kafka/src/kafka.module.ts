import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { Admin, Kafka, createKafka } from './kafka-client';
import { KafkaPublisher } from './publisher';

/** Whether the brokers answer now: one admin connection, kept once it succeeds, no retries (a health check). */
export class KafkaHealth {
  private admin: Admin | null = null;

  constructor(private readonly kafka: Kafka) {}

  /** Resolves when the cluster describes itself; rejects with the reason otherwise. */
  async ping(): Promise<void> {
    await (await this.connect()).describeCluster();
  }

  async disconnect(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = null;
  }

  private async connect(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin({ retry: { retries: 0 } });
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }
}

/**
 * The api's Kafka: one producer (KafkaPublisher, acks from all in-sync replicas within the send deadline) for every
 * topic it writes, and KafkaHealth for /health/ready; both disconnect at shutdown. Apps inject these, never kafkajs.
 */
@Global()
@Module({
  providers: [
    {
      provide: KafkaPublisher,
      inject: [FLYWHEEL_CONFIG],
      useFactory: (config: FlywheelConfig) => new KafkaPublisher(createKafka(config, 'api'), config.kafka.sendTimeoutMs),
    },
    { provide: KafkaHealth, inject: [FLYWHEEL_CONFIG], useFactory: (config: FlywheelConfig) => new KafkaHealth(createKafka(config, 'api-health')) },
  ],
  exports: [KafkaPublisher, KafkaHealth],
})
export class KafkaModule implements OnApplicationShutdown {
  constructor(private readonly publisher: KafkaPublisher, private readonly health: KafkaHealth) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.publisher.disconnect(), this.health.disconnect()]);
  }
}
