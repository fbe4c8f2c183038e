import { CreatedProject } from '@flywheel/database';
import { AppProcess, TestContext, get, post, waitFor } from './support/harness';

/**
 * Rating dimensions are first-class, through the real api and ingest-worker: a project declares them (defaults
 * visual_quality, motion_quality, text_alignment), an undeclared name is a 400 naming the field, and ratings given
 * only per dimension reach satisfaction (policy v2) and GET /v1/videos/:id instead of being dropped.
 */
describe('rating dimensions', () => {
  const ctx = new TestContext('dimensions');
  let api: AppProcess;
  let project: CreatedProject;

  beforeAll(async () => {
    await ctx.setUp();
    project = await ctx.createProject(2);
    [api] = await Promise.all([ctx.startApi(), ctx.startWorker()]);
  }, 90000);
  afterAll(() => ctx.tearDown(), 30000);

  const rate = (eventId: string, videoId: string, userId: string, rating: number, dimension?: string) =>
    ({ eventId, type: 'rate', videoId, userId, rating, dimension, occurredAt: '2026-11-20T10:00:00.000Z' });

  it('declares the default dimensions, and refuses an undeclared one with a 400 naming the event and field', async () => {
    expect(project.ratingDimensions).toEqual(['visual_quality', 'motion_quality', 'text_alignment']);
    const refused = await post(`${api.url}/v1/events`, project.ingestKey, { events: [rate('e0', 'v', 'u', 4, 'visual_quality'), rate('e1', 'v', 'u', 4, 'aesthetics')] });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('events[1].dimension "aesthetics" is not a rating dimension of this project') } } });
    expect(refused.body.error.details).toEqual([expect.objectContaining({ field: 'events[1].dimension' })]);
    // Nothing of a refused batch is accepted.
    const own = await ctx.createProject(2, 'own-dimensions', ['aesthetics', 'physics']);
    await expect(post(`${api.url}/v1/events`, own.ingestKey, { events: [rate('e1', 'v', 'u', 4, 'aesthetics')] })).resolves.toMatchObject({ status: 202 });
    await expect(post(`${api.url}/v1/events`, own.ingestKey, { events: [rate('e2', 'v', 'u', 4, 'visual_quality')] })).resolves.toMatchObject({ status: 400 });
  });

  it('keeps per-dimension ratings, scores satisfaction from them, and shows them on the video', async () => {
    const generations = ['good', 'bad'].map((videoId, i) => ({
      videoId, requestId: 'r1', prompt: 'a red fox', model: 'gen', modelVersion: '1', durationMs: 5000, features: [i, 1 - i],
    }));
    await expect(post(`${api.url}/v1/generations`, project.ingestKey, { generations })).resolves.toMatchObject({ status: 202 });
    const events = [];
    for (const [u, user] of ['ann', 'bob', 'cy'].entries()) {
      events.push(rate(`g-vq-${u}`, 'good', user, 5, 'visual_quality'), rate(`g-ta-${u}`, 'good', user, 4, 'text_alignment'));
      events.push(rate(`b-vq-${u}`, 'bad', user, 2, 'visual_quality'), rate(`b-mq-${u}`, 'bad', user, 1, 'motion_quality'));
    }
    await expect(post(`${api.url}/v1/events`, project.ingestKey, { events })).resolves.toMatchObject({ status: 202 });
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [project.projectId])) === events.length, 30000, 'events stored');
    await waitFor(async () => (await get(`${api.url}/v1/videos/bad`, project.secretKey)).body.signals?.rated === 3, 30000, 'signals folded');
    const good = (await get(`${api.url}/v1/videos/good`, project.secretKey)).body;
    expect(good.signals.rated).toBe(3);
    expect(good.ratings).toEqual({
      visual_quality: { n: 3, meanRating: 5, satisfaction: 1 },
      text_alignment: { n: 3, meanRating: 4, satisfaction: 0.5 },
    });
    // The overall score uses the mean of a user's dimension ratings when they gave no overall rating: 4.5 → > 0.
    expect(good.satisfaction.n).toBe(3);
    expect(good.satisfaction.mean).toBeGreaterThan(0.5);
    const bad = (await get(`${api.url}/v1/videos/bad`, project.secretKey)).body;
    expect(bad.ratings.motion_quality).toEqual({ n: 3, meanRating: 1, satisfaction: -1 });
    expect(bad.satisfaction.mean).toBeLessThan(-0.5);
  }, 90000);
});
