import { randomUUID } from 'node:crypto';
import { ModelsRepository } from '@flywheel/database';
import { AppProcess, TestContext, post } from './support/harness';

/** Errors of the libraries reach clients through the one code → status table, never as a bare 500. */
describe('library errors over HTTP', () => {
  const ctx = new TestContext('errors');
  let api: AppProcess;

  beforeAll(async () => {
    await ctx.setUp();
    api = await ctx.startApi();
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  it('answers 422 INVALID_ONNX (reward-model error) when asked to promote a model whose ONNX cannot be loaded', async () => {
    const project = await ctx.createProject(4);
    const models = ctx.db.make(ModelsRepository);
    const one = new Float32Array([0.1, 0.2, 0.3, 0.4]);
    const evaluationSetId = await models.saveEvaluationSet(project.projectId, {
      featureDim: 4, pairs: 1, featuresA: one, featuresB: one, outcome: new Float32Array([1]), weight: new Float32Array([1]),
    });
    const model = await models.insert(
      { id: randomUUID(), projectId: project.projectId, kind: 'linear', featureDim: 4, policyId: 'v1', preferenceSetId: null, metrics: {}, evaluationSetId },
      () => ({ onnx: new TextEncoder().encode('these bytes are not an ONNX model'), card: {}, cardMarkdown: '' }),
    );
    const response = await post(`${api.url}/v1/models/${model.id}/promote`, project.secretKey, {});
    expect(response).toMatchObject({ status: 422, body: { error: { code: 'INVALID_ONNX', message: expect.any(String) } } });
  }, 30000);

  it('answers 404 MODEL_NOT_FOUND (pipeline error) for a model of no project of this key', async () => {
    const project = await ctx.createProject(4);
    const response = await post(`${api.url}/v1/models/00000000-0000-4000-8000-000000000000/promote`, project.secretKey, {});
    expect(response).toMatchObject({ status: 404, body: { error: { code: 'MODEL_NOT_FOUND' } } });
  });

  it('refuses at once, with a 400 naming the option, a preference set the pair builder would refuse', async () => {
    const project = await ctx.createProject(4);
    // A whole number, so the request's shape is valid; beyond 2^53, so the seeded split cannot use it.
    const response = await post(`${api.url}/v1/preference-sets`, project.secretKey, { seed: 1e20 });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('seed');
    await expect(ctx.count('SELECT count(*) FROM preference_sets WHERE project_id = $1', [project.projectId])).resolves.toBe(0);
  });
});
