import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { FlywheelConfig } from '@flywheel/config';
import { ConnectionAwareClient, ConnectionAwareDataSource } from './connection-failure';

/** Compiled migrations live in dist/migrations; under ts-jest they are the .ts sources. */
function migrationGlobs(): string[] {
  const root = path.resolve(__dirname, '../../..');
  return [path.join(root, 'migrations/*.js'), path.join(root, 'migrations/*.ts')].filter(
    (glob) => !glob.endsWith('.ts') || __filename.endsWith('.ts'),
  );
}

export function createDataSource(config: FlywheelConfig['database'], options: { poolSize?: number } = {}): DataSource {
  return new ConnectionAwareDataSource({
    type: 'postgres',
    host: config.host,
    port: config.port,
    username: config.user,
    password: config.password,
    database: config.name,
    synchronize: false,
    migrationsRun: false,
    migrations: migrationGlobs(),
    migrationsTableName: 'schema_migrations',
    poolSize: options.poolSize ?? config.poolSize,
    extra: { connectionTimeoutMillis: 5000, application_name: 'flywheel', Client: ConnectionAwareClient },
    logging: ['error'],
  });
}

/** Initializes now if it can; otherwise keeps trying in the background every `intervalMs`. */
export async function initializeWithRetry(dataSource: DataSource, intervalMs = 2000): Promise<void> {
  const attempt = () => dataSource.initialize().then(() => true, () => false);
  if (await attempt()) return;
  const timer = setInterval(async () => {
    if (dataSource.isInitialized || (await attempt())) clearInterval(timer);
  }, intervalMs);
  timer.unref();
}

/** Creates the database if it does not exist (connecting to the `postgres` maintenance database). */
export async function ensureDatabase(config: FlywheelConfig['database']): Promise<boolean> {
  const client = new Client({ host: config.host, port: config.port, user: config.user, password: config.password, database: 'postgres' });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [config.name]);
    if (exists.rowCount) return false;
    await client.query(`CREATE DATABASE "${config.name.replace(/"/g, '""')}"`);
    return true;
  } finally {
    await client.end();
  }
}

export async function dropDatabase(config: FlywheelConfig['database']): Promise<void> {
  const client = new Client({ host: config.host, port: config.port, user: config.user, password: config.password, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${config.name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Creates the database if missing and applies pending migrations; returns the names applied. */
export async function migrate(config: FlywheelConfig['database']): Promise<string[]> {
  await ensureDatabase(config);
  const dataSource = createDataSource(config, { poolSize: 1 });
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await dataSource.destroy();
  }
}
