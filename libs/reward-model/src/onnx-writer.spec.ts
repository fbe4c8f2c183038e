import { onnxSchema } from './onnx.schema';
import { parseRewardModelMetadata, readOnnxMetadata, writeOnnx, type RewardModelProvenance } from './onnx-writer';
import { randomRewardModel } from './random-model.testing';

const provenance: RewardModelProvenance = {
  policyVersion: 'satisfaction-v3',
  preferenceSetId: 'ps_01HZX',
  metrics: { accuracy: 0.71, auc: 0.78, baselines: { random: 0.5 } },
  seed: 42,
  createdAt: new Date('2025-01-02T03:04:05Z'),
  extra: { feature_spec: 'clip-v2+motion' },
};

describe('writeOnnx', () => {
  it('writes IR 8, opset 17, producer flywheel and the declared graph interface', () => {
    const bytes = writeOnnx(randomRewardModel([6, 5, 1], 1), provenance);
    const { ModelProto } = onnxSchema();
    const model = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number }) as {
      ir_version: number;
      producer_name: string;
      opset_import: Array<{ domain?: string; version: number }>;
      graph: {
        node: Array<{ op_type: string }>;
        input: Array<{ name: string; type: { tensor_type: { elem_type: number; shape: { dim: object[] } } } }>;
        output: Array<{ name: string; type: { tensor_type: { shape: { dim: object[] } } } }>;
      };
    };
    expect(model.ir_version).toBe(8);
    expect(model.producer_name).toBe('flywheel');
    expect(model.opset_import).toEqual([{ domain: '', version: 17 }]);
    expect(model.graph.node.map((n) => n.op_type)).toEqual(['MatMul', 'Add', 'Relu', 'MatMul', 'Add', 'Squeeze']);
    expect(model.graph.input[0].name).toBe('features');
    expect(model.graph.input[0].type.tensor_type.elem_type).toBe(1);
    expect(model.graph.input[0].type.tensor_type.shape.dim).toEqual([{ dim_param: 'N' }, { dim_value: 6 }]);
    expect(model.graph.output[0].name).toBe('reward');
    expect(model.graph.output[0].type.tensor_type.shape.dim).toEqual([{ dim_param: 'N' }]);
  });

  it('round-trips the metadata', () => {
    const model = { ...randomRewardModel([6, 5, 3, 1], 2), ties: { model: 'davidson' as const, nu: 0.25 } };
    const props = readOnnxMetadata(writeOnnx(model, provenance));
    expect(props).toMatchObject({
      feature_dim: '6',
      model_kind: 'mlp',
      hidden_layers: '[5,3]',
      policy_version: 'satisfaction-v3',
      preference_set_id: 'ps_01HZX',
      seed: '42',
      created_at: '2025-01-02T03:04:05.000Z',
      tie_model: 'davidson',
      tie_nu: '0.25',
      feature_spec: 'clip-v2+motion',
    });
    expect(JSON.parse(props.metrics)).toEqual(provenance.metrics);
    expect(parseRewardModelMetadata(props)).toMatchObject({
      featureDim: 6,
      modelKind: 'mlp',
      hiddenLayers: [5, 3],
      seed: 42,
      metrics: provenance.metrics,
      ties: { model: 'davidson', nu: 0.25 },
    });
    const linear = parseRewardModelMetadata(readOnnxMetadata(writeOnnx(randomRewardModel([6, 1], 3), provenance)));
    expect(linear).toMatchObject({ modelKind: 'linear', hiddenLayers: [] });
    expect(linear.ties).toBeUndefined();
  });

  it('carries the registry identity (model id, version, project) when given, so a downloaded file is traceable', () => {
    const registry = { modelId: '0b7e3c1a-5d2f-5a4e-9c3b-1f2e3d4c5b6a', version: 7, projectId: 'p-1' };
    const props = readOnnxMetadata(writeOnnx(randomRewardModel([4, 1], 1), { ...provenance, registry }));
    expect(props).toMatchObject({ model_id: registry.modelId, model_version: '7', project_id: 'p-1', preference_set_id: 'ps_01HZX' });
    expect(parseRewardModelMetadata(props).registry).toEqual(registry);
    expect(parseRewardModelMetadata(readOnnxMetadata(writeOnnx(randomRewardModel([4, 1], 1), provenance))).registry).toBeUndefined();
    expect(() => writeOnnx(randomRewardModel([4, 1], 1), { ...provenance, extra: { model_id: 'x' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_MODEL' }),
    );
  });

  it('refuses reserved extra keys, invalid models and foreign metadata', () => {
    const model = randomRewardModel([4, 1], 1);
    expect(() => writeOnnx(model, { ...provenance, extra: { seed: '1' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_MODEL' }),
    );
    const invalidModel = expect.objectContaining({ code: 'INVALID_MODEL' });
    const invalidOnnx = expect.objectContaining({ code: 'INVALID_ONNX' });
    expect(() => writeOnnx({ ...model, inputDim: 5 }, provenance)).toThrow(invalidModel);
    expect(() => parseRewardModelMetadata({ feature_dim: '4' })).toThrow(invalidOnnx);
    expect(() => readOnnxMetadata(Uint8Array.from([0xff, 0xff, 0xff]))).toThrow(
      expect.objectContaining({ code: 'INVALID_ONNX' }),
    );
  });
});
