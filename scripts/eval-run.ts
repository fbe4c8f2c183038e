/**
 * The start-up the eval scripts share (eval:fetv, eval:calibration): a scratch database of their own (migrated, dropped
 * at the end), a TestContext (its own topics), one project, the real api and ingest-worker. `body` runs against them;
 * whatever it throws is printed and the process exits 1, otherwise 0, after everything is torn down.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '@flywheel/config';
import { CreatedProject, dropDatabase, migrate } from '@flywheel/database';
import { AppProcess, TestContext } from '../test/support/harness';

export interface EvalRun {
  ctx: TestContext;
  /** The api, started with `apiEnv`. */
  api: AppProcess;
  project: CreatedProject;
}

export interface EvalSetup {
  /** The project's feature dimension. */
  featureDim: number;
  ratingDimensions?: string[];
  /** Environment overrides for the api (e.g. rate limits off). */
  apiEnv?: Record<string, string>;
}

export async function runEval(name: string, setup: EvalSetup, body: (run: EvalRun) => Promise<void>): Promise<never> {
  process.env.PGDATABASE = `flywheel_${name}_${randomBytes(4).toString('hex')}`;
  process.env.FLYWHEEL_TEST_RUN = name;
  const config = loadConfig();
  await migrate(config.database);
  const ctx = new TestContext(name);
  let exitCode = 0;
  try {
    await ctx.setUp();
    const project = await ctx.createProject(setup.featureDim, name, setup.ratingDimensions);
    const [api] = await Promise.all([ctx.startApi(setup.apiEnv), ctx.startWorker()]);
    await body({ ctx, api, project });
  } catch (error) {
    console.error(error);
    exitCode = 1;
  } finally {
    await ctx.tearDown().catch(() => undefined);
    await dropDatabase(config.database).catch(() => undefined);
  }
  process.exit(exitCode);
}
