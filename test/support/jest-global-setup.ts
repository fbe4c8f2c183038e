import { randomBytes } from 'node:crypto';
import { resolveLibraryPaths } from './library-paths';

/**
 * One database per test run (created here, dropped in teardown); each test file then makes its own topics with a
 * prefix of its own (see harness.ts). Runs against the real PostgreSQL and Kafka that deploy/test.sh started.
 */
export default async function globalSetup(): Promise<void> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  process.env.FLYWHEEL_ENV = 'test';
  process.env.PGDATABASE = `flywheel_test_${runId}`;
  process.env.FLYWHEEL_TEST_RUN = runId;
  process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? 'warn';
  resolveLibraryPaths();
  const { loadConfig } = await import('../../libs/config/src');
  const { migrate } = await import('../../libs/database/src');
  await migrate(loadConfig().database);
}
