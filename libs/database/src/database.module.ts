import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { createDataSource, initializeWithRetry } from './data-source';
import { IngestRepository } from './ingest.repository';
import { MetricsRepository } from './metrics.repository';
import { ProjectsRepository } from './projects.repository';
import { ReadRepository } from './read.repository';
import { SatisfactionRepository } from './satisfaction.repository';
import { ModelsRepository } from './models.repository';
import { EvidenceRepository } from './evidence.repository';
import { PreferenceSetsRepository } from './preference-sets.repository';

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
    { provide: ProjectsRepository, inject: [DataSource], useFactory: (db: DataSource) => new ProjectsRepository(db) },
    { provide: IngestRepository, inject: [DataSource], useFactory: (db: DataSource) => new IngestRepository(db) },
    { provide: ReadRepository, inject: [DataSource], useFactory: (db: DataSource) => new ReadRepository(db) },
    { provide: SatisfactionRepository, inject: [DataSource], useFactory: (db: DataSource) => new SatisfactionRepository(db) },
    { provide: ModelsRepository, inject: [DataSource], useFactory: (db: DataSource) => new ModelsRepository(db) },
    { provide: EvidenceRepository, inject: [DataSource], useFactory: (db: DataSource) => new EvidenceRepository(db) },
    { provide: MetricsRepository, inject: [DataSource], useFactory: (db: DataSource) => new MetricsRepository(db) },
  ],
  exports: [
    DataSource, ProjectsRepository, IngestRepository, ReadRepository, SatisfactionRepository, ModelsRepository,
    EvidenceRepository, MetricsRepository,
  ],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.db.isInitialized) await this.db.destroy();
  }
}
