import { topicNames } from '@flywheel/contracts';
import { CreatedProject, PreferenceSetRow } from '@flywheel/database';
import { KafkaPublisher, OutgoingMessage, createKafka } from '@flywheel/kafka';
import { LostClaimError, MessageSink, buildPreferenceSet, publishPreferenceSet } from '@flywheel/preference-sets';
import { MAX_PUBLICATION_ATTEMPTS, SetPublisher } from '../../apps/trainer/src/set-publisher';
import { TestContext, readTopicWithKcat } from '../support/harness';
import { repositories, seedEvidence, trainerConfig, useAppLogger } from './trainer-world';

/**
 * Medium tier: publication of a preference set in this process against the real PostgreSQL and Kafka — resumption
 * after a failed send, a lost claim, and the retry budget of the trainer's SetPublisher. (A trainer SIGKILLed
 * mid-publication is test/publication.test.ts.)
 */
describe('publishing a preference set in-process (medium)', () => {
  const ctx = new TestContext('medium-publish');
  let project: CreatedProject;
  let set: PreferenceSetRow;
  let kafka: KafkaPublisher;
  let topic: string;
  const r = () => repositories(ctx.db);

  beforeAll(async () => {
    useAppLogger();
    await ctx.setUp();
    project = await ctx.createProject(4, 'medium-publish');
    await seedEvidence(ctx.db, project);
    const { sets, evidence, models, satisfaction } = r();
    const queued = await sets.create(project.projectId, { scopes: ['request', 'prompt'], includeTies: true, seed: 1 });
    const claimed = (await sets.claimBuild(60_000))!;
    expect(claimed.id).toBe(queued.id);
    await buildPreferenceSet({ evidence, sets, models, satisfaction }, claimed, { scopes: ['request', 'prompt'], includeTies: true, seed: 1 });
    set = (await sets.find(project.projectId, queued.id))!;
    kafka = new KafkaPublisher(createKafka(ctx.config, 'medium-publish'), ctx.config.kafka.sendTimeoutMs);
    topic = topicNames(ctx.prefix).preferences;
  }, 60000);
  afterAll(async () => {
    await kafka?.disconnect();
    await ctx.tearDown();
  }, 30000);

  const counts = () => set.manifest!.counts as { pairs: number; rankings: number };
  const expectedIds = () => [
    ...Array.from({ length: counts().pairs }, (_, seq) => `${set.id}:pair:${seq}`),
    ...Array.from({ length: counts().rankings }, (_, seq) => `${set.id}:ranking:${seq}`),
    `${set.id}:complete`,
  ].sort();
  /** Kafka itself, with the n-th send refused before anything reaches the broker. */
  const refusingSend = (n: number): MessageSink => {
    let sends = 0;
    return { send: (t: string, messages: OutgoingMessage[]) => (++sends === n ? Promise.reject(new Error('broker unavailable (injected)')) : kafka.send(t, messages)) };
  };

  it('continues a failed publication from the last acknowledged batch with the same ids: every message once', async () => {
    const { sets, publications } = r();
    expect(counts().pairs + counts().rankings).toBeGreaterThan(150);
    const queued = await publications.request(set.id, topic);
    const first = (await publications.claim(60_000))!;
    expect(first).toMatchObject({ id: queued.id, attempts: 1, pairSeqAcked: -1, rankingSeqAcked: -1, messages: 0 });
    await expect(publishPreferenceSet({ sets, publications }, refusingSend(3), first, set, 50)).rejects.toThrow('broker unavailable (injected)');
    await publications.release(first.id, first.attempts, 'broker unavailable (injected)');
    const [stopped] = await publications.list(set.id);
    expect(stopped).toMatchObject({ status: 'queued', messages: 100, error: 'broker unavailable (injected)' });

    const second = (await publications.claim(60_000))!;
    expect(second).toMatchObject({ id: queued.id, attempts: 2, messages: 100, pairSeqAcked: 99, rankingSeqAcked: -1 });
    await expect(publishPreferenceSet({ sets, publications }, kafka, second, set, 50)).resolves.toBe(counts().pairs + counts().rankings + 1);
    await expect(publications.find(set.id, queued.id)).resolves.toMatchObject({ status: 'done', messages: counts().pairs + counts().rankings + 1, publishedAt: expect.any(Date) });

    const ids = readTopicWithKcat(ctx.config.kafka.brokers[0], topic).map((m) => m.id).sort();
    expect(ids).toEqual(expectedIds()); // the refused batch never reached Kafka: nothing twice
  }, 60000);

  it('stops a publication whose claim was taken over, at its next batch', async () => {
    const { sets, publications } = r();
    await publications.request(set.id, topic);
    const stale = (await publications.claim(60_000))!;
    const taker = (await publications.claim(0))!; // its heartbeat is older than a 0 ms lease
    expect(taker).toMatchObject({ id: stale.id, attempts: stale.attempts + 1 });
    await expect(publishPreferenceSet({ sets, publications }, kafka, stale, set, 50)).rejects.toBeInstanceOf(LostClaimError);
    await expect(publications.find(set.id, stale.id)).resolves.toMatchObject({ status: 'publishing', attempts: taker.attempts, messages: 0 });
    await expect(publishPreferenceSet({ sets, publications }, kafka, taker, set, 50)).resolves.toBe(counts().pairs + counts().rankings + 1);
  }, 60000);

  it(`gives a publication back to the queue on failure, fails it after ${MAX_PUBLICATION_ATTEMPTS} attempts, and resumes it when asked again`, async () => {
    const { sets, publications } = r();
    const down: MessageSink & { disconnect(): Promise<void> } = { send: () => Promise.reject(new Error('Kafka is down (injected)')), disconnect: async () => undefined };
    const publisher = new SetPublisher(trainerConfig(ctx.config), sets, publications, down);
    const queued = await publications.request(set.id, topic);
    for (let attempt = 1; attempt <= MAX_PUBLICATION_ATTEMPTS; attempt++) {
      await expect(publisher.publishNext()).resolves.toBe(true);
      const expected = attempt < MAX_PUBLICATION_ATTEMPTS ? 'queued' : 'failed';
      await expect(publications.find(set.id, queued.id)).resolves.toMatchObject({ status: expected, attempts: attempt, error: 'Kafka is down (injected)' });
    }
    await expect(publisher.publishNext()).resolves.toBe(false);
    await expect(publications.request(set.id, topic)).resolves.toMatchObject({ id: queued.id, status: 'queued', attempts: 0 });
    const working = new SetPublisher(trainerConfig(ctx.config), sets, publications, { send: (t, m) => kafka.send(t, m), disconnect: async () => undefined });
    await expect(working.publishNext()).resolves.toBe(true);
    await expect(publications.find(set.id, queued.id)).resolves.toMatchObject({ status: 'done', attempts: 1, error: null });
  }, 60000);

  it('fails a publication at once, with the reason, when the failure is permanent (classifyFailure)', async () => {
    const { sets, publications } = r();
    const dataError = await ctx.db.query(`SELECT 'not a number'::int`).then(() => { throw new Error('expected a data exception'); }, (error: unknown) => error);
    const refusing: MessageSink & { disconnect(): Promise<void> } = { send: () => Promise.reject(dataError), disconnect: async () => undefined };
    const publisher = new SetPublisher(trainerConfig(ctx.config), sets, publications, refusing);
    const queued = await publications.request(set.id, topic);
    await expect(publisher.publishNext()).resolves.toBe(true);
    await expect(publications.find(set.id, queued.id)).resolves.toMatchObject({ status: 'failed', attempts: 1, error: expect.stringContaining('SQLSTATE 22P02') });
    await expect(publisher.publishNext()).resolves.toBe(false);
  }, 60000);
});
