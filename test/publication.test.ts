import { topicNames } from '@flywheel/contracts';
import { CreatedProject } from '@flywheel/database';
import { PUBLICATION_BATCH } from '@flywheel/preference-sets';
import { AppProcess, TestContext, get, outputOf, post, readTopicWithKcat as readTopic, waitFor } from './support/harness';

const PAIRS = 60_000;

/**
 * Publishing a preference set runs on the trainer's queue and resumes: a trainer SIGKILLed mid-publication leaves
 * its progress in PostgreSQL, another trainer takes the lease over and continues from the last acknowledged batch
 * with the same message ids. The topic is read back with kcat (not the kafkajs that wrote it).
 */
describe('publication of a preference set on the trainer queue', () => {
  const ctx = new TestContext('publish');
  let api: AppProcess;
  let project: CreatedProject;
  let setId: string;
  const LEASE = { TRAINER_SET_LEASE_MS: '3000' };

  beforeAll(async () => {
    await ctx.setUp();
    project = await ctx.createProject(4);
    api = await ctx.startApi();
    // A ready set of PAIRS pairs, written in SQL as the builder would have (the build is tested elsewhere).
    const [set] = await ctx.db.query(
      `INSERT INTO preference_sets (project_id, filters, status, manifest, content_sha256)
       VALUES ($1, '{}', 'ready', $2, 'sha-of-the-seeded-set') RETURNING id`,
      [project.projectId, JSON.stringify({ schema: 'flywheel.preference-set.v1', counts: { pairs: PAIRS, rankings: 0 }, contentSha256: 'sha-of-the-seeded-set' })],
    );
    setId = set.id;
    await ctx.db.query(
      `INSERT INTO preference_pairs (set_id, seq, chosen_id, rejected_id, chosen_uri, rejected_uri, prompt, request_id,
              model_version, margin, weight, tie, scope, group_key, split, source, dimensions)
       SELECT $1, i, 'video-' || (i * 2), 'video-' || (i * 2 + 1), NULL, NULL, 'a cat surfing, take ' || (i % 97),
              'req-' || (i / 3), 'gen-1.0', (i % 97) / 97.0, 1, false, 'request', 'request:req-' || (i / 3), 'train',
              'observed', '{}'::jsonb
         FROM generate_series(0, $2 - 1) AS i`,
      [setId, PAIRS],
    );
  }, 120000);
  afterAll(() => ctx.tearDown(), 30000);

  const publication = async (id: string) => (await get(`${api.url}/v1/preference-sets/${setId}/publications/${id}`, project.secretKey)).body;

  it('answers 202 with a queued publication, and the same one while it is unfinished', async () => {
    const first = await post(`${api.url}/v1/preference-sets/${setId}/publish`, project.secretKey, {});
    expect(first).toMatchObject({ status: 202, body: { setId, status: 'queued', messages: 0, topic: topicNames(ctx.prefix).preferences } });
    const again = await post(`${api.url}/v1/preference-sets/${setId}/publish`, project.secretKey, {});
    expect(again).toMatchObject({ status: 202, body: { publicationId: first.body.publicationId, status: 'queued' } });
    await expect(get(`${api.url}/v1/preference-sets/${setId}/publications`, project.secretKey)).resolves.toMatchObject({ status: 200, body: [{ publicationId: first.body.publicationId }] });
    await expect(get(`${api.url}/v1/preference-sets/${setId}/publications/not-a-uuid`, project.secretKey)).resolves.toMatchObject({ status: 400, body: { error: { message: 'publicationId must be a UUID' } } });
  });

  it('continues a publication whose trainer was killed mid-way: every pair on the topic, ids the same, at most one batch again', async () => {
    const [{ publicationId }] = (await get(`${api.url}/v1/preference-sets/${setId}/publications`, project.secretKey)).body;
    const first = await ctx.startTrainer(LEASE);
    // Kill it once Kafka acknowledged some batches, well before the end.
    await waitFor(async () => (await publication(publicationId)).messages >= PUBLICATION_BATCH, 60000, 'the first acknowledged batch', first.child);
    await ctx.stopApp(first, 'SIGKILL');
    const left = await publication(publicationId);
    expect(left).toMatchObject({ status: 'publishing', attempts: 1 });
    expect(left.messages).toBeLessThan(PAIRS); // killed mid-way, not after the end

    const second = await ctx.startTrainer(LEASE);
    await waitFor(async () => ['done', 'failed'].includes((await publication(publicationId)).status), 90000, 'the publication to finish', second.child);
    const done = await publication(publicationId);
    expect(done).toMatchObject({ status: 'done', attempts: 2, error: null, messages: PAIRS + 1 });
    await ctx.stopApp(second);
    expect(outputOf(second.child)).not.toContain('"level":"error"');

    const messages = readTopic(ctx.config.kafka.brokers[0], topicNames(ctx.prefix).preferences);
    const byId = new Map<string, string>();
    let again = 0;
    for (const { id, raw } of messages) {
      if (byId.has(id)) {
        again++;
        expect(raw).toBe(byId.get(id)); // a message sent again is the same message
      } else {
        byId.set(id, raw);
      }
    }
    const expected = [...Array.from({ length: PAIRS }, (_, seq) => `${setId}:pair:${seq}`), `${setId}:complete`];
    expect(byId.size).toBe(expected.length);
    expect(expected.filter((id) => !byId.has(id))).toEqual([]);
    expect(again).toBeLessThanOrEqual(PUBLICATION_BATCH); // resumed from the last acknowledged batch, not from the start
    const marker = JSON.parse(byId.get(`${setId}:complete`)!);
    expect(marker).toMatchObject({ kind: 'complete', messages: PAIRS, manifest: { contentSha256: 'sha-of-the-seeded-set' } });
  }, 240000);

  it('publishes a done set again as a new publication with the same message ids', async () => {
    const trainer = await ctx.startTrainer(LEASE);
    const next = await post(`${api.url}/v1/preference-sets/${setId}/publish`, project.secretKey, {});
    expect(next).toMatchObject({ status: 202, body: { status: 'queued', messages: 0 } });
    await waitFor(async () => (await publication(next.body.publicationId)).status === 'done', 90000, 'the second publication', trainer.child);
    const list = (await get(`${api.url}/v1/preference-sets/${setId}/publications`, project.secretKey)).body;
    expect(list.map((p: { status: string }) => p.status)).toEqual(['done', 'done']);
    const ids = new Set(readTopic(ctx.config.kafka.brokers[0], topicNames(ctx.prefix).preferences).map((m) => m.id));
    expect(ids.size).toBe(PAIRS + 1);
    await ctx.stopApp(trainer);
  }, 240000);
});
