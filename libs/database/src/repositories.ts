import { FlywheelConfig } from '@flywheel/config';
import { closeCopyPool } from './copy-pool';
import { createDataSource } from './data-source';
import { DeletionsRepository } from './deletions.repository';
import { EvidenceRepository } from './evidence.repository';
import { IngestRepository } from './ingest.repository';
import { MetricsRepository } from './metrics.repository';
import { ModelsRepository } from './models.repository';
import { PreferenceSetsRepository } from './preference-sets.repository';
import { ProjectsRepository } from './projects.repository';
import { SatisfactionRepository } from './satisfaction.repository';

export interface Repositories {
  projects: ProjectsRepository;
  ingest: IngestRepository;
  satisfaction: SatisfactionRepository;
  models: ModelsRepository;
  evidence: EvidenceRepository;
  metrics: MetricsRepository;
  preferenceSets: PreferenceSetsRepository;
  deletions: DeletionsRepository;
}

/**
 * For a short-lived process (the CLI): connects, hands `work` the repositories, and closes the connections
 * whatever happens. The schema must be current (`flywheel infra init` or `npm run migrate` migrates).
 */
export async function withRepositories<T>(
  config: FlywheelConfig['database'], work: (repositories: Repositories) => Promise<T>, options: { poolSize?: number } = {},
): Promise<T> {
  const db = createDataSource(config, { poolSize: options.poolSize ?? 2 });
  await db.initialize();
  try {
    return await work({
      projects: new ProjectsRepository(db), ingest: new IngestRepository(db), satisfaction: new SatisfactionRepository(db),
      models: new ModelsRepository(db), evidence: new EvidenceRepository(db), metrics: new MetricsRepository(db),
      preferenceSets: new PreferenceSetsRepository(db), deletions: new DeletionsRepository(db),
    });
  } finally {
    await closeCopyPool(db);
    await db.destroy();
  }
}
