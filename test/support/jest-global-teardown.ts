import { resolveLibraryPaths } from './library-paths';

export default async function globalTeardown(): Promise<void> {
  if (process.env.FLYWHEEL_KEEP_TEST_DB) return;
  resolveLibraryPaths();
  const { loadConfig } = await import('../../libs/config/src');
  const { dropDatabase } = await import('../../libs/database/src');
  await dropDatabase(loadConfig().database);
}
