import { loadConfig } from '../../libs/config/src';
import { dropDatabase } from '../../libs/database/src/data-source';

export default async function globalTeardown(): Promise<void> {
  if (process.env.FLYWHEEL_KEEP_TEST_DB) return;
  await dropDatabase(loadConfig().database);
}
