import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { CreatedProject } from '@flywheel/database';
import { ROLLUP_COUNTERS } from '@flywheel/satisfaction';
import { aggregateProblems, diffDerivedState, readDerivedState } from './support/derived-state';
import { AppProcess, ROOT, TestContext, feedbackBatch, post, postAll, waitFor } from './support/harness';

/** Hourly satisfaction rollups kept by the ingest-worker in the events' transaction. */
describe('satisfaction rollups', () => {
  const ctx = new TestContext('rollups');
  let api: AppProcess;
  let worker: AppProcess;

  beforeAll(async () => {
    await ctx.setUp();
    [api, worker] = await Promise.all([ctx.startApi(), ctx.startWorker({ WORKER_MAX_BYTES_PER_PARTITION: '16384' })]);
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  const stored = (projectId: string) => ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [projectId]);
  const rollups = async (projectId: string) => {
    const rows: Record<string, unknown>[] = await ctx.db.query(
      `SELECT hour, model, model_version, category, segment, policy_id, ${ROLLUP_COUNTERS.join(', ')}
         FROM satisfaction_rollups WHERE project_id = $1 ORDER BY hour, model, model_version, category, segment`,
      [projectId],
    );
    // Rows whose every counter went back to zero carry no information; a rebuild does not write them.
    return rows
      .map((r): Record<string, unknown> => ({ ...r, hour: (r.hour as Date).toISOString(), ...Object.fromEntries(ROLLUP_COUNTERS.map((c) => [c, Number(r[c])])) }))
      .filter((r) => ROLLUP_COUNTERS.some((c) => Math.abs(r[c] as number) > 1e-9));
  };
  const rebuild = (projectId: string) => JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'dist/apps/cli/src/main.js'), 'metrics', 'rebuild', '--project', projectId, '--json'], { env: ctx.env() }).toString());
  const expectSameRollups = (actual: Record<string, unknown>[], expected: Record<string, unknown>[]) => {
    expect(actual.map((r) => [r.hour, r.model_version, r.category, r.segment])).toEqual(expected.map((r) => [r.hour, r.model_version, r.category, r.segment]));
    actual.forEach((row, i) => {
      for (const c of ROLLUP_COUNTERS) expect(row[c]).toBeCloseTo(expected[i][c] as number, 6);
    });
  };

  async function register(project: CreatedProject, videos: number, version: (i: number) => string) {
    const generations = Array.from({ length: videos }, (_, i) => ({
      videoId: `v${i}`, requestId: `r${Math.floor(i / 4)}`, prompt: `prompt ${Math.floor(i / 4)}`, model: 'seedance',
      modelVersion: version(i), category: i % 3 === 0 ? 'travel' : 'pets', segment: i % 2 ? 'pro' : 'casual', durationMs: 8000,
      features: [i, 1, 2, 3],
    }));
    await expect(post(`${api.url}/v1/generations`, project.ingestKey, { generations })).resolves.toMatchObject({ status: 202 });
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM generations WHERE project_id = $1', [project.projectId])) === videos, 15000, 'generations');
  }

  it('takes an unlike back out and moves rows to their model version when the generation arrives late', async () => {
    const p = await ctx.createProject(4);
    const at = (s: number) => new Date(Date.UTC(2026, 10, 2, 9, 0, s)).toISOString();
    const e = (id: string, type: string, videoId: string, userId: string, s: number) => ({ eventId: id, type, videoId, userId, occurredAt: at(s) });
    await post(`${api.url}/v1/events`, p.ingestKey, { events: [e('a', 'like', 'late', 'u1', 0), e('b', 'like', 'late', 'u2', 1), e('c', 'play', 'late', 'u3', 2)] });
    await waitFor(async () => (await stored(p.projectId)) === 3, 15000, 'first events');
    let rows = await rollups(p.projectId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ model: '', model_version: '', viewers: 3, likes: 2, plays: 1, policy_id: 'v2' });

    await post(`${api.url}/v1/events`, p.ingestKey, { events: [e('d', 'unlike', 'late', 'u1', 5)] });
    await waitFor(async () => (await stored(p.projectId)) === 4, 15000, 'unlike');
    rows = await rollups(p.projectId);
    expect(rows[0]).toMatchObject({ viewers: 3, likes: 1 });

    await post(`${api.url}/v1/generations`, p.ingestKey, { generations: [{ videoId: 'late', requestId: 'r', prompt: 'p', model: 'kling', modelVersion: '2.1', category: 'pets', features: [1, 2, 3, 4] }] });
    await waitFor(async () => (await rollups(p.projectId)).some((r) => r.model_version === '2.1'), 15000, 'attribution');
    rows = await rollups(p.projectId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ model: 'kling', model_version: '2.1', category: 'pets', segment: '', viewers: 3, likes: 1 });
    expectSameRollups(rows, (rebuild(p.projectId), await rollups(p.projectId)));
  }, 60000);

  it('does not change when the same events are replayed', async () => {
    const p = await ctx.createProject(4);
    await register(p, 50, (i) => (i % 2 ? '1.0' : '2.0'));
    const batches = Array.from({ length: 6 }, (_, b) => feedbackBatch('replay', b, 300));
    const accepted = new Set<string>();
    await postAll(api, p.ingestKey, batches, accepted);
    await waitFor(async () => (await stored(p.projectId)) === accepted.size, 30000, 'events');
    const before = await rollups(p.projectId);
    expect(before.length).toBeGreaterThan(0);
    const dimensionsBefore = await readDerivedState(ctx.db, p.projectId);
    expect(dimensionsBefore.dimensionHourly.length).toBeGreaterThan(0);

    await postAll(api, p.ingestKey, batches, new Set());
    await post(`${api.url}/v1/events`, p.ingestKey, { events: [{ eventId: 'sentinel', type: 'play', videoId: 'other', userId: 'x', occurredAt: '2026-11-01T12:00:00Z' }] });
    await waitFor(async () => (await stored(p.projectId)) === accepted.size + 1, 30000, 'sentinel');
    const after = (await rollups(p.projectId)).filter((r) => r.model !== '');
    expectSameRollups(after, before);
    // Per rating dimension too: the replay changed none of its sums.
    const dimensionsAfter = await readDerivedState(ctx.db, p.projectId);
    for (const part of ['dimensionHourly', 'dimensionDaily', 'dimensionVideos', 'dimensionUsers', 'dimensionMoments'] as const) {
      expect(dimensionsAfter[part]).toEqual(dimensionsBefore[part]);
    }
  }, 90000);

  it('equals a recomputation from the events after the worker is SIGKILLed mid-stream', async () => {
    const p = await ctx.createProject(4);
    await register(p, 50, (i) => (i % 3 ? '1.0' : '2.0'));
    const batches = Array.from({ length: 40 }, (_, b) => feedbackBatch('rkill', b, 400));
    const accepted = new Set<string>();
    const posting = postAll(api, p.ingestKey, batches, accepted);
    await waitFor(async () => (await stored(p.projectId)) > 1500, 60000, 'some events persisted');
    await ctx.stopApp(worker, 'SIGKILL');
    await posting;
    worker = await ctx.startWorker({ WORKER_MAX_BYTES_PER_PARTITION: '16384' });
    await waitFor(async () => (await stored(p.projectId)) === accepted.size, 90000, 'all events persisted');

    const incremental = await rollups(p.projectId);
    const incrementalState = await readDerivedState(ctx.db, p.projectId);
    expect(incrementalState.dimensionMoments.length).toBeGreaterThan(0);
    expect(aggregateProblems(incrementalState)).toBe('');
    const [report] = rebuild(p.projectId);
    expect(report).toMatchObject({ projectId: p.projectId, events: accepted.size, policyId: 'v2' });
    const recomputed = await rollups(p.projectId);
    expectSameRollups(incremental, recomputed);
    // Every derived table, the per-dimension ones included, column by column.
    expect(diffDerivedState(incrementalState, await readDerivedState(ctx.db, p.projectId))).toBe('');
    const viewers = incremental.reduce((sum, r) => sum + (r.viewers as number), 0);
    await expect(ctx.count('SELECT count(*) FROM video_user_signals WHERE project_id = $1', [p.projectId])).resolves.toBe(viewers);
  }, 180000);
});
