import type { DataSource } from 'typeorm';
import type { FlywheelConfig } from '@flywheel/config';
import { createDataSource } from './data-source';
import { IngestTransaction } from './ingest.repository';

/** What a statement runs on in a test: the database, or one transaction of it. Rows come back as plain objects. */
export interface TestQueries {
  query<T = any>(sql: string, params?: unknown[]): Promise<T>;
}

/**
 * Tests' handle on the database (`@flywheel/database/testing`): raw SQL to arrange and inspect rows, transactions,
 * and libs/database's own classes (repositories, EventPartitions) built over it as the apps' modules build them.
 * Production code gets repositories and DatabaseHealth instead; the driver's types stay in libs/database.
 */
export interface TestDatabase extends TestQueries {
  /** A transaction: raw SQL in it, and the ingest path's statements (`ingest`) in the same transaction. */
  transaction<T>(work: (tx: TestQueries & { ingest: IngestTransaction }) => Promise<T>): Promise<T>;
  /** A libs/database class over this database: `db.make(ProjectsRepository)`. */
  make<T>(Class: new (db: DataSource) => T): T;
  /** Reverts the last applied migration (its own transaction). */
  undoLastMigration(): Promise<void>;
  close(): Promise<void>;
}

/** Connects to `config`'s database (a pool of `poolSize`). */
export async function openTestDatabase(config: FlywheelConfig['database'], options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const db = createDataSource(config, options);
  await db.initialize();
  return {
    query: (sql, params) => db.query(sql, params),
    transaction: (work) => db.transaction((em) => work({ query: (sql, params) => em.query(sql, params), ingest: new IngestTransaction(em) })),
    make: (Class) => new Class(db),
    undoLastMigration: async () => { await db.undoLastMigration({ transaction: 'each' }); },
    close: () => db.destroy(),
  };
}
