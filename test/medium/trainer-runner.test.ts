import { connect } from 'node:net';
import type { TestDatabase } from '@flywheel/database/testing';
import { CreatedProject, EvidenceRepository } from '@flywheel/database';
import { LostClaimError, buildPreferenceSet } from '@flywheel/preference-sets';
import { MAX_ATTEMPTS } from '../../apps/trainer/src/attempts';
import { MAX_SET_BUILD_ATTEMPTS, MAX_TRAINING_CLAIMS, TrainerRunner } from '../../apps/trainer/src/trainer-runner';
import { TestContext, waitFor } from '../support/harness';
import { REQUESTS, repositories, seedEvidence, trainerConfig, trainerRunner, useAppLogger } from './trainer-world';

/** Evidence whose reads first throw the scripted errors, one per call (then `always`, if given), then read as usual. */
function flakyEvidence(db: TestDatabase, script: unknown[], always?: unknown) {
  return db.make(class extends EvidenceRepository {
    calls = 0;

    override async videos(...args: Parameters<EvidenceRepository['videos']>) {
      this.calls++;
      const error = script.length ? script.shift() : always;
      if (error !== undefined) throw error;
      return super.videos(...args);
    }
  });
}

/**
 * Medium tier: TrainerRunner and set building in this process against the real PostgreSQL (no app processes), so
 * the queue logic — claims, leases, takeovers, lost claims, training jobs — is reached in seconds. The end-to-end
 * versions (killed processes) live in test/preferences.test.ts and test/publication.test.ts.
 */
describe('TrainerRunner in-process (medium)', () => {
  const ctx = new TestContext('medium-trainer');
  let project: CreatedProject;
  const running: TrainerRunner[] = [];
  const REQUEST = { scopes: ['request'], minMargin: 0.05, includeTies: false, seed: 3 };

  beforeAll(async () => {
    useAppLogger();
    await ctx.setUp();
    project = await ctx.createProject(4, 'medium-trainer');
    await seedEvidence(ctx.db, project);
  }, 60000);
  afterEach(async () => { await Promise.all(running.splice(0).map((r) => r.onApplicationShutdown())); });
  afterAll(() => ctx.tearDown(), 30000);

  const start = (leaseMs?: number, evidence?: EvidenceRepository, jobLeaseMs?: number) => {
    const runner = trainerRunner(trainerConfig(ctx.config, leaseMs, jobLeaseMs), ctx.db, evidence ? { evidence } : {});
    running.push(runner);
    runner.start();
    return runner;
  };
  const stop = async (runner: TrainerRunner) => {
    running.splice(running.indexOf(runner), 1);
    await runner.onApplicationShutdown();
  };
  const r = () => repositories(ctx.db);
  const settledSet = async (id: string) => {
    await waitFor(async () => !['queued', 'building'].includes((await r().sets.find(project.projectId, id))!.status), 30000, `set ${id} settled`);
    return (await r().sets.find(project.projectId, id))!;
  };

  it('builds a queued set: ready, its manifest counts what is stored, and the same request gives the same content', async () => {
    const queued = await r().sets.create(project.projectId, REQUEST);
    expect(queued).toMatchObject({ status: 'queued', attempts: 0 });
    start();
    const set = await settledSet(queued.id);
    expect(set).toMatchObject({ status: 'ready', attempts: 1, error: null, contentSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const counts = (set.manifest as { counts: { pairs: number; rankings: number } }).counts;
    expect(counts.pairs).toBeGreaterThan(REQUESTS); // several pairs per request of four candidates
    await expect(ctx.count('SELECT count(*) FROM preference_pairs WHERE set_id = $1', [set.id])).resolves.toBe(counts.pairs);
    await expect(ctx.count('SELECT count(*) FROM preference_rankings WHERE set_id = $1', [set.id])).resolves.toBe(counts.rankings);
    // Pairs prefer the better candidate (the latent truth is feature 0, which drove likes, discards and watch time).
    const [{ wrong }] = await ctx.db.query(
      `SELECT count(*)::int AS wrong FROM preference_pairs p
         JOIN generations c ON c.project_id = $2 AND c.video_id = p.chosen_id
         JOIN generations x ON x.project_id = $2 AND x.video_id = p.rejected_id
        WHERE p.set_id = $1 AND c.features[1] < x.features[1]`, [set.id, project.projectId]);
    expect(wrong).toBe(0);

    const again = await r().sets.create(project.projectId, REQUEST);
    await expect(settledSet(again.id)).resolves.toMatchObject({ status: 'ready', contentSha256: set.contentSha256 });
  }, 60000);

  it('takes over a build whose lease ran out: clears the dead attempt\'s rows and builds it as attempt 2', async () => {
    const sets = r().sets;
    const [orphan] = await ctx.db.query(
      `INSERT INTO preference_sets (project_id, filters, status, attempts, heartbeat_at)
       VALUES ($1, $2, 'building', 1, now() - interval '1 minute') RETURNING id`,
      [project.projectId, JSON.stringify(REQUEST)],
    );
    const reference = await sets.create(project.projectId, REQUEST);
    await sets.insertPairs(orphan.id, 0, [{
      chosenId: 'left', rejectedId: 'over', chosenUri: null, rejectedUri: null, prompt: 'left over by the dead trainer', requestId: 'r', modelVersion: '1',
      margin: 1, weight: 1, tie: false, scope: 'request', groupKey: 'request:r', split: 'train', source: 'observed', dimensions: {},
    }]);
    start(5_000);
    const rebuilt = await settledSet(orphan.id);
    expect(rebuilt).toMatchObject({ status: 'ready', attempts: 2, error: null });
    await expect(ctx.count(`SELECT count(*) FROM preference_pairs WHERE set_id = $1 AND prompt = 'left over by the dead trainer'`, [orphan.id])).resolves.toBe(0);
    await expect(settledSet(reference.id)).resolves.toMatchObject({ contentSha256: rebuilt.contentSha256 });
  }, 60000);

  it(`fails a set whose builds died ${MAX_SET_BUILD_ATTEMPTS} times, with a reason, instead of trying forever`, async () => {
    const [poison] = await ctx.db.query(
      `INSERT INTO preference_sets (project_id, filters, status, attempts, heartbeat_at)
       VALUES ($1, $2, 'building', $3, now() - interval '1 minute') RETURNING id`,
      [project.projectId, JSON.stringify(REQUEST), MAX_SET_BUILD_ATTEMPTS],
    );
    start(5_000);
    await expect(settledSet(poison.id)).resolves.toMatchObject({ status: 'failed', attempts: MAX_SET_BUILD_ATTEMPTS + 1, error: expect.stringContaining('build abandoned') });
  }, 60000);

  it('stops a build that lost its claim before it writes, and leaves the set to the attempt that holds it', async () => {
    const { sets, evidence, models, satisfaction } = r();
    const queued = await sets.create(project.projectId, REQUEST);
    const claimed = (await sets.claimBuild(60_000))!;
    expect(claimed.id).toBe(queued.id);
    await expect(buildPreferenceSet({ evidence, sets, models, satisfaction }, claimed, REQUEST as never, () => false)).rejects.toBeInstanceOf(LostClaimError);
    await expect(sets.find(project.projectId, queued.id)).resolves.toMatchObject({ status: 'building', attempts: 1, manifest: null });
    await expect(ctx.count('SELECT count(*) FROM preference_pairs WHERE set_id = $1', [queued.id])).resolves.toBe(0);
    // The holder finishes it.
    await expect(buildPreferenceSet({ evidence, sets, models, satisfaction }, claimed, REQUEST as never)).resolves.toMatchObject({ counts: expect.any(Object) });
    await expect(sets.find(project.projectId, queued.id)).resolves.toMatchObject({ status: 'ready', attempts: 1 });
  }, 60000);

  it('runs a queued training job to a registered model, and fails one without enough data with a reason', async () => {
    const { models } = r();
    // promote: false — promotion scores with onnxruntime-node, which refuses typed arrays from another realm than the
    // one it was loaded in, as under jest (the promotion path runs in the processes of test/preferences.test.ts).
    const job = await models.enqueueJob(project.projectId, { kind: 'linear', seed: 5, promote: false });
    const empty = await ctx.createProject(4, 'medium-empty');
    const hopeless = await models.enqueueJob(empty.projectId, { kind: 'linear' });
    start();
    const finished = async (projectId: string, id: string) => {
      await waitFor(async () => ['succeeded', 'failed'].includes((await models.job(projectId, id))!.status), 45000, `job ${id}`);
      return (await models.job(projectId, id))!;
    };
    const done = await finished(project.projectId, job.id);
    expect(done).toMatchObject({ status: 'succeeded', error: null, modelId: expect.any(String) });
    const model = (await models.find(project.projectId, done.modelId!))!;
    expect(model).toMatchObject({ kind: 'linear', featureDim: 4, status: 'candidate' });
    expect((model.metrics as { test: { accuracy: number } }).test.accuracy).toBeGreaterThan(0.8); // feature 0 is the truth
    await expect(finished(empty.projectId, hopeless.id)).resolves.toMatchObject({ status: 'failed', error: expect.any(String) });
  }, 90000);

  it('takes over a training job whose trainer died mid-run (its lease ran out); the dead claim can no longer write', async () => {
    const { models } = r();
    const job = await models.enqueueJob(project.projectId, { kind: 'linear', seed: 11, promote: false });
    // A trainer claims it and dies: no heartbeat, no end state. (Before the lease, the job stayed `running` forever.)
    const dead = (await models.claimJob(60_000))!;
    expect(dead).toMatchObject({ id: job.id, status: 'running', attempts: 1 });
    start(undefined, undefined, 1_000);
    await waitFor(async () => (await models.job(project.projectId, job.id))!.status === 'succeeded', 45000, 'the job taken over and finished');
    const done = (await models.job(project.projectId, job.id))!;
    expect(done).toMatchObject({ status: 'succeeded', error: null, modelId: expect.any(String) });
    await expect(ctx.count('SELECT attempts FROM training_jobs WHERE id = $1', [job.id])).resolves.toBe(2);
    // The first claim, were it only slow, finds its token spent: its late writes change nothing.
    await expect(models.updateJob(job.id, dead.attempts, { status: 'failed', error: 'late' })).resolves.toBe(false);
    await expect(models.heartbeatJob(job.id, dead.attempts)).resolves.toBe(false);
    await expect(models.job(project.projectId, job.id)).resolves.toMatchObject({ status: 'succeeded', modelId: done.modelId });
  }, 60000);

  it(`fails a training job whose trainers died ${MAX_TRAINING_CLAIMS} times, with a reason, instead of trying forever`, async () => {
    const [poison] = await ctx.db.query(
      `INSERT INTO training_jobs (project_id, options, status, attempts, heartbeat_at, started_at)
       VALUES ($1, $2, 'running', $3, now() - interval '1 minute', now() - interval '2 minutes') RETURNING id`,
      [project.projectId, JSON.stringify({ kind: 'linear' }), MAX_TRAINING_CLAIMS],
    );
    start(undefined, undefined, 5_000);
    await waitFor(async () => (await r().models.job(project.projectId, poison.id))!.status === 'failed', 30000, 'the job failed');
    await expect(r().models.job(project.projectId, poison.id)).resolves.toMatchObject({ status: 'failed', error: expect.stringContaining('training abandoned') });
  }, 60000);

  describe('classifies failures (the classifier the ingest-worker and the api share)', () => {
    /** A real PostgreSQL data exception (SQLSTATE 22P02): the same input fails again. */
    let dataError: unknown;
    /** A real refused connection: the dependency is down now and may be back later. */
    let refused: Error;
    const odd = () => new Error('an error nobody classified');

    beforeAll(async () => {
      dataError = await ctx.db.query(`SELECT 'not a number'::int`).then(() => { throw new Error('expected a data exception'); }, (error: unknown) => error);
      refused = await new Promise<Error>((resolve) => connect(1, '127.0.0.1').on('error', resolve));
      expect((refused as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    });

    const job = async (id: string) => (await r().models.job(project.projectId, id))!;
    const finishedJob = async (id: string) => {
      await waitFor(async () => ['succeeded', 'failed'].includes((await job(id)).status), 45000, `job ${id}`);
      return job(id);
    };
    const enqueue = () => r().models.enqueueJob(project.projectId, { kind: 'linear', seed: 7, promote: false });

    it('training: permanent fails at once with the reason; unknown after the bounded attempts; transient is retried and succeeds', async () => {
      const permanent = flakyEvidence(ctx.db, [dataError]);
      let queued = await enqueue();
      let runner = start(undefined, permanent);
      await expect(finishedJob(queued.id)).resolves.toMatchObject({ status: 'failed', error: expect.stringContaining('SQLSTATE 22P02') });
      expect(permanent.calls).toBe(1);
      await stop(runner);

      const unknown = flakyEvidence(ctx.db, [], odd());
      queued = await enqueue();
      runner = start(undefined, unknown);
      await expect(finishedJob(queued.id)).resolves.toMatchObject({
        status: 'failed', error: expect.stringMatching(new RegExp(`after ${MAX_ATTEMPTS} attempts: an error nobody classified`)),
      });
      expect(unknown.calls).toBe(MAX_ATTEMPTS);
      await stop(runner);

      const heals = flakyEvidence(ctx.db, [refused, refused]);
      queued = await enqueue();
      start(undefined, heals);
      await expect(finishedJob(queued.id)).resolves.toMatchObject({ status: 'succeeded', error: null, modelId: expect.any(String) });
      expect(heals.calls).toBe(3);
    }, 120000);

    it('training: a job that still fails transiently goes back to the queue, not to failed, and a later trainer runs it', async () => {
      const down = flakyEvidence(ctx.db, [], refused);
      const queued = await enqueue();
      const runner = start(undefined, down);
      await waitFor(async () => down.calls >= MAX_ATTEMPTS, 30000, 'the first round of attempts');
      await stop(runner);
      await expect(job(queued.id)).resolves.toMatchObject({ status: 'queued', error: expect.stringContaining('ECONNREFUSED') });

      start(); // the database and the evidence are back
      await expect(finishedJob(queued.id)).resolves.toMatchObject({ status: 'succeeded', error: null, modelId: expect.any(String) });
    }, 120000);

    it('set builds: permanent fails at once; unknown after the bounded tries; transient heals, or is given back and bounded by the claims', async () => {
      const permanent = flakyEvidence(ctx.db, [dataError]);
      let queued = await r().sets.create(project.projectId, REQUEST);
      let runner = start(undefined, permanent);
      await expect(settledSet(queued.id)).resolves.toMatchObject({ status: 'failed', attempts: 1, error: expect.stringContaining('SQLSTATE 22P02') });
      expect(permanent.calls).toBe(1);
      await stop(runner);

      const unknown = flakyEvidence(ctx.db, [], odd());
      queued = await r().sets.create(project.projectId, REQUEST);
      runner = start(undefined, unknown);
      await expect(settledSet(queued.id)).resolves.toMatchObject({ status: 'failed', attempts: 1, error: expect.stringContaining('an error nobody classified') });
      expect(unknown.calls).toBe(MAX_ATTEMPTS);
      await stop(runner);

      const heals = flakyEvidence(ctx.db, [refused, refused]);
      queued = await r().sets.create(project.projectId, REQUEST);
      runner = start(undefined, heals);
      await expect(settledSet(queued.id)).resolves.toMatchObject({ status: 'ready', attempts: 1, error: null });
      expect(heals.calls).toBe(3);
      await stop(runner);

      // Down for good: each claim tries MAX_ATTEMPTS times and gives the set back (no rows kept); the claim after
      // MAX_SET_BUILD_ATTEMPTS fails it with the last error.
      const down = flakyEvidence(ctx.db, [], refused);
      queued = await r().sets.create(project.projectId, REQUEST);
      start(undefined, down);
      await expect(settledSet(queued.id)).resolves.toMatchObject({
        status: 'failed', attempts: MAX_SET_BUILD_ATTEMPTS + 1, error: expect.stringMatching(/build abandoned.*last error: .*ECONNREFUSED/),
      });
      expect(down.calls).toBe(MAX_SET_BUILD_ATTEMPTS * MAX_ATTEMPTS);
      await expect(ctx.count('SELECT count(*) FROM preference_pairs WHERE set_id = $1', [queued.id])).resolves.toBe(0);
    }, 120000);
  });
});
