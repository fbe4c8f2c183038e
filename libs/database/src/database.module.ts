import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { closeCopyPool } from './copy-pool';
import { createDataSource, initializeWithRetry } from './data-source';
import { DatabaseHealth } from './database-health';
import { IngestRepository } from './ingest.repository';
import { MetricsRepository } from './metrics.repository';
import { DimensionMetricsRepository } from './dimension-metrics.repository';
import { ProjectsRepository } from './projects.repository';
import { VideosRepository } from './videos.repository';
import { SatisfactionRepository } from './satisfaction.repository';
import { ModelsRepository } from './models.repository';
import { EvidenceRepository } from './evidence.repository';
import { EventPartitions } from './event-partitions';
import { PreferencePublicationsRepository } from './preference-publications.repository';
import { PreferenceSetsRepository } from './preference-sets.repository';
import { DeletionsRepository } from './deletions.repository';

/** Every repository takes the data source; the apps get them all. */
const REPOSITORIES = [
  ProjectsRepository, IngestRepository, VideosRepository, SatisfactionRepository, ModelsRepository, EvidenceRepository,
  MetricsRepository, PreferenceSetsRepository, PreferencePublicationsRepository, EventPartitions, DeletionsRepository,
  DimensionMetricsRepository,
] as const;

@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [FLYWHEEL_CONFIG],
      useFactory: async (config: FlywheelConfig) => {
        const dataSource = createDataSource(config.database);
        // Start even if the database is down: /health/ready reports it and requests fail as unavailable until the
        // first connection succeeds; after that the pool reconnects by itself.
        await initializeWithRetry(dataSource);
        return dataSource;
      },
    },
    ...[...REPOSITORIES, DatabaseHealth].map((provider) => ({ provide: provider, inject: [DataSource], useFactory: (db: DataSource) => new provider(db) })),
  ],
  // The data source stays inside: apps get repositories and DatabaseHealth, never the driver.
  exports: [...REPOSITORIES, DatabaseHealth],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    await closeCopyPool(this.db);
    if (this.db.isInitialized) await this.db.destroy();
  }
}
