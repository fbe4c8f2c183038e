#!/usr/bin/env node
/**
 * `flywheel`: the command line for operators and ML engineers. Projects go through the HTTP API with the admin token
 * (FLYWHEEL_ADMIN_TOKEN); without one, `project create` and `project list` talk to the database directly
 * (bootstrap). Everything else goes through the HTTP API with a project's secret key.
 * Exit codes: 0 ok, 1 failed, 2 bad usage (or key), 3 service unavailable, 4 not found, 5 rejected (a 4xx, or a
 * promotion that was refused), 78 bad configuration.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ratingDimensionProblems } from '@flywheel/contracts';
import { loadConfigOrExit } from '@flywheel/config';
import { FlywheelError } from '@flywheel/errors';
import { ApiClient, CliError, EXIT } from './api-client';
import { registerKeyCommands } from './keys.commands';
import { registerModelCommands } from './models.commands';
import { registerSetCommands } from './sets.commands';
import { registerUserCommands, waitForDeletion } from './users.commands';
import { CreatedProject, ProjectsRepository, Repositories, createProjectWithKeys, migrate, withRepositories } from '@flywheel/database';
import { CachedQuantiles, learnQuantiles, rebuildProject } from '@flywheel/ingest';
import { CURRENT_POLICY, SATISFACTION_POLICIES } from '@flywheel/satisfaction';
import { createKafka, ensureTopics } from '@flywheel/kafka';

const EXIT_FAILED = 1;
const EXIT_UNAVAILABLE = 3;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 4096) throw new InvalidArgumentError('must be an integer between 1 and 4096');
  return n;
}

/** Straight to the database (bootstrap and operator commands). Only `project create` and `infra init` migrate. */
async function withDatabase<T>(work: (repositories: Repositories) => Promise<T>, options: { migrate?: boolean } = {}): Promise<T> {
  const config = loadConfigOrExit();
  if (options.migrate) await migrate(config.database);
  return withRepositories(config.database, work);
}

const withProjects = <T>(work: (repo: ProjectsRepository) => Promise<T>, options: { migrate?: boolean } = {}) =>
  withDatabase(({ projects }) => work(projects), options);

function fail(error: unknown): never {
  if (error instanceof CliError) {
    process.stderr.write(`flywheel: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  const e = error as { code?: string; message?: string };
  if (e?.code === 'ECONNREFUSED') {
    process.stderr.write('flywheel: cannot reach PostgreSQL (PGHOST/PGPORT). Start it, or run `npm run infra:up`.\n');
    process.exit(EXIT_UNAVAILABLE);
  }
  process.stderr.write(`flywheel: ${e?.message ?? String(error)}\n`);
  process.exit(EXIT_FAILED);
}

const program = new Command('flywheel')
  .description('Flywheel: feedback → satisfaction → preference data → reward models')
  .option('--api <url>', 'api base URL (default FLYWHEEL_API_URL or http://127.0.0.1:8080)')
  .option('--key <secret key>', 'the project\'s secret key (default FLYWHEEL_API_KEY)')
  .option('--admin-token <token>', 'the api\'s admin token, for projects over HTTP (default FLYWHEEL_ADMIN_TOKEN)')
  .showHelpAfterError()
  // Usage errors (unknown command, missing or malformed option) exit 2, like other Unix tools; help exits 0.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT.usage));

function client(): ApiClient {
  const config = loadConfigOrExit();
  const global = program.opts<{ api?: string; key?: string }>();
  return new ApiClient((global.api ?? config.cli.apiUrl).replace(/\/$/, ''), global.key ?? config.cli.apiKey);
}

/** The admin client, or null without an admin token (then project commands use the database). */
function adminClient(): ApiClient | null {
  const config = loadConfigOrExit();
  const global = program.opts<{ api?: string; adminToken?: string }>();
  const token = global.adminToken ?? config.cli.adminToken;
  return token ? new ApiClient((global.api ?? config.cli.apiUrl).replace(/\/$/, ''), token) : null;
}

const output = (json: boolean | undefined) => (human: string, value: unknown) => {
  process.stdout.write(`${json ? JSON.stringify(value) : human}\n`);
};
const project = program.command('project').description('projects and API keys');

project
  .command('create')
  .description('create a project with an ingest key and a secret key (shown once)')
  .requiredOption('--name <name>', 'project name')
  .requiredOption('--feature-dim <d>', 'length of the generations\' feature vectors', positiveInt)
  .option('--dimensions <names>', 'rating dimensions, comma-separated (default visual_quality,motion_quality,text_alignment)', dimensionList)
  .option('--json', 'print JSON')
  .action(async (opts: { name: string; featureDim: number; dimensions?: string[]; json?: boolean }) => {
    const admin = adminClient();
    // Without an admin token this is the bootstrap command: it may be the first thing run against a fresh database.
    const created = await (admin
      ? admin.json<CreatedProject>('POST', '/v1/admin/projects', { name: opts.name, featureDim: opts.featureDim, ratingDimensions: opts.dimensions })
      : withProjects((repo) => createProjectWithKeys(repo, opts.name, opts.featureDim, { ratingDimensions: opts.dimensions }), { migrate: true })).catch(fail);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ projectId: created.projectId, ingestKey: created.ingestKey, secretKey: created.secretKey })}\n`);
    } else {
      process.stdout.write(`project ${created.name} (${created.projectId}), feature dimension ${created.featureDim}, rating dimensions ${created.ratingDimensions.join(', ')}\n` +
        `  ingest key (write-only, may ship in apps): ${created.ingestKey}\n` +
        `  secret key (read, export, admin):          ${created.secretKey}\n` +
        'Keys are shown once; only their hashes are stored.\n');
    }
  });

project
  .command('list')
  .description('list projects')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const admin = adminClient();
    const rows = await (admin
      ? admin.json<{ projects: { projectId: string; name: string; featureDim: number }[] }>('GET', '/v1/admin/projects').then((r) => r.projects)
      : withProjects(async (repo) => (await repo.list()).map((p) => ({ projectId: p.id, name: p.name, featureDim: p.featureDim })))).catch(fail);
    if (opts.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else for (const r of rows) process.stdout.write(`${r.projectId}  ${r.name}  dim=${r.featureDim}\n`);
  });

project
  .command('delete <projectId>')
  .description('delete a project: its keys are refused from then on and all its data is removed (needs the admin token); waits unless --no-wait')
  .option('--no-wait', 'print the purge job and return')
  .option('--json', 'print JSON')
  .action(async (projectId: string, opts: { wait: boolean; json?: boolean }) => {
    const admin = adminClient();
    if (!admin) fail(new CliError('project delete needs the admin token: pass --admin-token or set FLYWHEEL_ADMIN_TOKEN', EXIT.usage));
    const first = await admin.json('DELETE', `/v1/admin/projects/${encodeURIComponent(projectId)}`).catch(fail);
    const view = opts.wait ? await waitForDeletion(admin, `/v1/admin/deletions/${first.jobId}`, first).catch(fail) : first;
    const removed = view.result?.removed as Record<string, number> | undefined;
    const human = view.status === 'done'
      ? `deleted project ${projectId}; removed ${Object.values(removed ?? {}).reduce((a, b) => a + b, 0)} rows (job ${view.jobId})`
      : `deleted project ${projectId}; its data is being removed (job ${view.jobId}: ${view.status}${view.error ? `, ${view.error}` : ''})`;
    process.stdout.write(`${opts.json ? JSON.stringify({ ...view, deleted: true }) : human}\n`);
    if (view.status === 'failed') process.exitCode = EXIT_FAILED;
  });

project
  .command('retention <projectId> <days>')
  .description("days the project's raw events are kept (`forever`: the default); signals, rollups and models stay (needs the admin token)")
  .option('--json', 'print JSON')
  .action(async (projectId: string, days: string, opts: { json?: boolean }) => {
    const admin = adminClient();
    if (!admin) fail(new CliError('project retention needs the admin token: pass --admin-token or set FLYWHEEL_ADMIN_TOKEN', EXIT.usage));
    if (days !== 'forever' && !/^[1-9][0-9]*$/.test(days)) fail(new CliError(`days must be a whole number of days or "forever", not "${days}"`, EXIT.usage));
    const updated = await admin.json<{ eventRetentionDays: number | null }>('PATCH', `/v1/admin/projects/${encodeURIComponent(projectId)}`, {
      eventRetentionDays: days === 'forever' ? null : Number(days),
    }).catch(fail);
    process.stdout.write(`${opts.json ? JSON.stringify(updated) : `project ${projectId} keeps raw events ${updated.eventRetentionDays === null ? 'forever' : `${updated.eventRetentionDays} days`}`}\n`);
  });

const metrics = program.command('metrics').description('satisfaction rollups (operator commands, run against the database)');
metrics
  .command('rebuild')
  .description('recompute signal state and hourly rollups from the events table (after a policy change or a backfill)')
  .option('--project <id...>', 'only these projects (default: all)')
  .option('--learn-quantiles', "first relearn each project's watch-ratio quantiles from its own data")
  .option('--json', 'print JSON')
  .action(async (opts: { project?: string[]; learnQuantiles?: boolean; json?: boolean }) => {
    const reports = await withDatabase(async ({ satisfaction, projects, ingest }) => {
      await satisfaction.ensurePolicies(Object.values(SATISFACTION_POLICIES).map((p) => ({ id: p.id, params: p })));
      const projectIds = opts.project ?? (await projects.list()).map((p) => p.id);
      const result: (Awaited<ReturnType<typeof rebuildProject>> | { projectId: string; refused: string })[] = [];
      for (const projectId of projectIds) {
        if (opts.learnQuantiles) await learnQuantiles(satisfaction, projectId, CURRENT_POLICY);
        const quantiles = new CachedQuantiles(satisfaction, CURRENT_POLICY.id);
        try {
          const r = await rebuildProject(ingest, quantiles, CURRENT_POLICY, projectId);
          result.push(r);
          if (!opts.json) process.stderr.write(`rebuilt ${r.projectId}: ${r.events} events → ${r.signalRows} signal rows, ${r.rollupRows} rollup rows in ${r.seconds.toFixed(1)} s (policy ${r.policyId})\n`);
        } catch (error) {
          // Retention removed raw events of this project: it keeps its signals; the others are still rebuilt.
          if (!(error instanceof FlywheelError && error.code === 'RAW_EVENTS_EXPIRED')) throw error;
          result.push({ projectId, refused: error.message });
          if (!opts.json) process.stderr.write(`not rebuilt: ${error.message}\n`);
        }
      }
      return result;
    }).catch(fail);
    if (opts.json) process.stdout.write(`${JSON.stringify(reports)}\n`);
    if (reports.some((r) => 'refused' in r)) process.exitCode = 1;
  });

program
  .command('infra')
  .description('bootstrap: create the database if missing, migrate, create the Kafka topics')
  .argument('<action>', 'init')
  .action(async (action: string) => {
    if (action !== 'init') fail(new Error(`unknown infra action "${action}" (expected: init)`));
    const config = loadConfigOrExit();
    const applied = await migrate(config.database).catch(fail);
    process.stderr.write(`[infra] database ${config.database.name}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}\n`);
    const created = await ensureTopics(createKafka(config, 'cli'), config.kafka.topicPrefix, config.kafka).catch(fail);
    process.stderr.write(`[infra] topics: ${created.length ? `created ${created.join(', ')}` : 'all present'}\n`);
  });

registerKeyCommands(program, client, output);
registerModelCommands(program, client, output);
registerSetCommands(program, client, output);
registerUserCommands(program, client, output);

program.parseAsync(process.argv).catch(fail);

function dimensionList(value: string): string[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  const problems = ratingDimensionProblems(names);
  if (problems.length) throw new InvalidArgumentError(problems.join('; '));
  return names;
}
