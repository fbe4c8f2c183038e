import { CreatedProject } from '@flywheel/database';
import { TestContext } from '../support/harness';
import { repositories, seedEvidence } from './trainer-world';

/**
 * Medium tier: what training and preference sets read of a video (its satisfaction sum) must not depend on where
 * PostgreSQL keeps the signal rows. An UPDATE, a rebuild or a VACUUM FULL moves rows; a sum taken in heap order then
 * rounds differently, the pairs' margins and weights move in the last bit, and the same data and seed no longer give
 * the same model bytes (a retrain registers a copy instead of finding its entry).
 */
describe('evidence read order (medium)', () => {
  const ctx = new TestContext('medium-evidence-order');
  let project: CreatedProject;

  beforeAll(async () => {
    await ctx.setUp();
    project = await ctx.createProject(4, 'medium-evidence-order');
    await seedEvidence(ctx.db, project);
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  it('sums a video\'s satisfaction to the same bits whatever the physical order of its signal rows', async () => {
    const users: { user_hash: string }[] = await ctx.db.query(
      `SELECT user_hash FROM video_user_signals WHERE project_id = $1 AND video_id = 'v0-0' ORDER BY user_hash`, [project.projectId]);
    expect(users).toHaveLength(3);
    // Three scores whose float sum depends on the order: (0.1 + 0.2) + ⅓ ≠ (0.2 + ⅓) + 0.1 as float4 (and these are float4).
    const setScore = (user: string, score: number | null) => ctx.db.query(
      `UPDATE video_user_signals SET satisfaction = coalesce($3, satisfaction) WHERE project_id = $1 AND video_id = 'v0-0' AND user_hash = $2`,
      [project.projectId, user, score]);
    for (const [i, score] of [0.1, 0.2, 1 / 3].entries()) await setScore(users[i].user_hash, score);
    const satSum = async () => (await repositories(ctx.db).evidence.videos(project.projectId, {})).find((v) => v.videoId === 'v0-0')!.satSum;
    // A sequential scan (what PostgreSQL runs at any real size) returns the rows in heap order.
    await ctx.db.query(`ANALYZE generations`);
    await ctx.db.query(`ANALYZE video_user_signals`);
    // Lay the table out in two orders (CLUSTER rewrites it in an index's order): the scan meets the three rows as
    // 0.1, 0.2, ⅓ (the primary key's user order), then as ⅓, 0.2, 0.1; then once more after row-by-row rewrites.
    const sums = [];
    await ctx.db.query(`CLUSTER video_user_signals USING video_user_signals_pkey`);
    sums.push(await satSum());
    await ctx.db.query(`CREATE INDEX evidence_order_test ON video_user_signals (project_id, video_id, satisfaction DESC)`);
    try {
      await ctx.db.query(`CLUSTER video_user_signals USING evidence_order_test`);
      sums.push(await satSum());
    } finally {
      await ctx.db.query(`DROP INDEX evidence_order_test`);
    }
    for (const user of users) await setScore(user.user_hash, null);
    sums.push(await satSum());
    expect(sums).toEqual([sums[0], sums[0], sums[0]]);
    // The sum is over the stored float4 scores, in double precision.
    expect(sums[0]).toBeCloseTo(0.1 + 0.2 + 1 / 3, 6);
  });
});
