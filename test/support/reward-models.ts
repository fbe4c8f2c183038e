import { randomUUID } from 'node:crypto';
import { ModelsRepository } from '@flywheel/database';
import type { TestDatabase } from '@flywheel/database/testing';
import { writeOnnx } from '@flywheel/reward-model';
import { randomRewardModel } from '@flywheel/reward-model/testing';

export interface RegisteredModel {
  id: string;
  onnx: Uint8Array;
}

/**
 * Puts an ONNX reward model of random weights (layers `[featureDim, ...hidden, 1]`, one head per named dimension)
 * straight into a project's registry, promoted to production unless `promote: false`: for tests and benchmarks of
 * serving, which need a model but not a training run.
 */
export async function registerRandomModel(
  db: TestDatabase,
  projectId: string,
  featureDim: number,
  { seed = 7, hidden = [] as number[], dimensions = [] as string[], promote = true } = {},
): Promise<RegisteredModel> {
  const model = randomRewardModel([featureDim, ...hidden, 1], seed);
  const heads = dimensions.map((name, k) => ({ name, model: randomRewardModel([featureDim, 1], seed + 1 + k) }));
  const onnx = writeOnnx(model, { policyVersion: 'v1', preferenceSetId: 'test', metrics: {}, seed, createdAt: new Date() }, heads);
  const models = db.make(ModelsRepository);
  const empty = new Float32Array(0);
  const evaluationSetId = await models.saveEvaluationSet(projectId, { featureDim, pairs: 0, featuresA: empty, featuresB: empty, outcome: empty, weight: empty });
  const row = await models.insert(
    { id: randomUUID(), projectId, kind: model.kind, featureDim, policyId: 'v1', preferenceSetId: null, metrics: {}, evaluationSetId },
    () => ({ onnx, card: {}, cardMarkdown: '' }),
  );
  if (promote) await models.promote(projectId, row.id, 'test');
  return { id: row.id, onnx };
}
