import { ONNX_DATA_TYPE, onnxSchema } from './onnx.schema';
import { assertValidModel } from './predict';
import { RewardModelError } from './reward-model.errors';
import type { RewardModel, RewardModelKind } from './reward-model.types';

/** IR 8 and opset 17 are read by every onnxruntime since 1.14, so old serving runtimes load what we write. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
export const ONNX_PRODUCER = 'flywheel';
export const ONNX_INPUT = 'features';
export const ONNX_OUTPUT = 'reward';
export const ONNX_REWARDS = 'rewards';

/** Training provenance written into the model's metadata_props. */
export interface RewardModelProvenance {
  policyVersion: string;
  preferenceSetId: string;
  /** Serialised as a JSON string. */
  metrics: Record<string, unknown>;
  seed: number;
  createdAt: Date | string;
  /**
   * Where the file lives in the registry (written as model_id, model_version, project_id), so a downloaded file can
   * be traced back to its entry.
   */
  registry?: { modelId: string; version: number; projectId: string };
  /** More metadata_props; may not reuse a reserved key. */
  extra?: Record<string, string>;
}

/** The metadata_props of a reward model, parsed. */
export interface RewardModelMetadata {
  featureDim: number;
  modelKind: RewardModelKind;
  hiddenLayers: number[];
  policyVersion: string;
  preferenceSetId: string;
  metrics: Record<string, unknown>;
  seed: number;
  createdAt: string;
  ties?: { model: 'davidson'; nu: number };
  /** Names of the `rewards` columns, in order (empty: the model has no dimension heads). */
  dimensions: string[];
  /** Absent in files written outside the registry (and in files from before it was recorded). */
  registry?: { modelId: string; version: number; projectId: string };
  props: Record<string, string>;
}

const RESERVED_KEYS = [
  'feature_dim',
  'model_kind',
  'hidden_layers',
  'policy_version',
  'preference_set_id',
  'metrics',
  'seed',
  'created_at',
  'tie_model',
  'tie_nu',
  'model_id',
  'model_version',
  'project_id',
  'dimensions',
  'dimension_heads',
];

/** One per-dimension head: a model of its own on the same input, trained on pairs labelled for that dimension. */
export interface DimensionHead {
  name: string;
  model: RewardModel;
}

/**
 * Serialises a model as an ONNX ModelProto: input `features` float32 [N, D], output `reward` float32 [N]; with
 * dimension heads also `rewards` float32 [N, K], one column per head in the order given (names in the
 * `dimensions` metadata). Each layer is MatMul (weights stored in × out) + Add, with Relu after hidden layers; a
 * final Squeeze (axes given as an input tensor, as opset ≥ 13 requires) turns [N, 1] into [N]. Linear heads are
 * packed into one [D, K] MatMul; MLP heads each get their own layers and a Concat of their [N, 1] outputs makes
 * [N, K].
 */
export function writeOnnx(model: RewardModel, meta: RewardModelProvenance, heads: readonly DimensionHead[] = []): Uint8Array {
  assertValidModel(model);
  const initializer: object[] = [];
  const node: object[] = [];
  const overall = layerGraph(model, '', initializer, node);
  initializer.push(int64Tensor('squeeze_axes', [1], [1]));
  node.push({ op_type: 'Squeeze', name: 'squeeze', input: [overall, 'squeeze_axes'], output: [ONNX_OUTPUT] });
  const outputs = [tensorValue(ONNX_OUTPUT, [{ dim_param: 'N' }])];
  if (heads.length > 0) {
    for (const head of heads) {
      assertValidModel(head.model);
      if (head.model.inputDim !== model.inputDim) {
        throw new RewardModelError('INVALID_MODEL', `head ${head.name} reads ${head.model.inputDim} features, not ${model.inputDim}`);
      }
    }
    if (heads.every((head) => head.model.layers.length === 1)) {
      packedLinearHeads(heads, model.inputDim, initializer, node);
    } else {
      const headOutputs = heads.map((head, k) => layerGraph(head.model, `head${k}.`, initializer, node));
      node.push({ op_type: 'Concat', name: 'concat_heads', input: headOutputs, output: [ONNX_REWARDS], attribute: [{ name: 'axis', type: 2, i: 1 }] });
    }
    outputs.push(tensorValue(ONNX_REWARDS, [{ dim_param: 'N' }, { dim_value: heads.length }]));
  }

  const props: Record<string, string> = {
    feature_dim: String(model.inputDim),
    model_kind: model.kind,
    hidden_layers: JSON.stringify(model.hiddenLayers),
    policy_version: meta.policyVersion,
    preference_set_id: meta.preferenceSetId,
    metrics: JSON.stringify(meta.metrics),
    seed: String(meta.seed),
    created_at: meta.createdAt instanceof Date ? meta.createdAt.toISOString() : meta.createdAt,
  };
  if (heads.length > 0) {
    props.dimensions = JSON.stringify(heads.map((h) => h.name));
    props.dimension_heads = JSON.stringify(heads.map((h) => ({ name: h.name, kind: h.model.kind, hiddenLayers: h.model.hiddenLayers })));
  }
  if (meta.registry) {
    props.model_id = meta.registry.modelId;
    props.model_version = String(meta.registry.version);
    props.project_id = meta.registry.projectId;
  }
  if (model.ties) {
    props.tie_model = model.ties.model;
    props.tie_nu = String(model.ties.nu);
  }
  for (const [key, value] of Object.entries(meta.extra ?? {})) {
    if (RESERVED_KEYS.includes(key)) {
      throw new RewardModelError('INVALID_MODEL', `metadata key ${key} is reserved`, { details: { key } });
    }
    props[key] = value;
  }

  const { ModelProto } = onnxSchema();
  const message = ModelProto.fromObject({
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: ONNX_PRODUCER,
    producer_version: '1',
    doc_string: `Bradley–Terry reward model (${model.kind}); takes raw features, standardisation is folded in.`,
    graph: {
      name: 'flywheel_reward_model',
      node,
      initializer,
      input: [tensorValue(ONNX_INPUT, [{ dim_param: 'N' }, { dim_value: model.inputDim }])],
      output: outputs,
    },
    metadata_props: Object.entries(props).map(([key, value]) => ({ key, value })),
  });
  return ModelProto.encode(message).finish();
}

/** The metadata_props of any ONNX model, as a record. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const { ModelProto } = onnxSchema();
  let decoded: { metadata_props?: Array<{ key?: string; value?: string }> };
  try {
    decoded = ModelProto.toObject(ModelProto.decode(bytes), { defaults: false }) as typeof decoded;
  } catch (cause) {
    throw new RewardModelError('INVALID_ONNX', 'not an ONNX model: the bytes do not decode as a ModelProto', { cause });
  }
  const props: Record<string, string> = {};
  for (const entry of decoded.metadata_props ?? []) props[entry.key ?? ''] = entry.value ?? '';
  return props;
}

/** Parses and checks the metadata this library writes; throws INVALID_ONNX when a key is missing or malformed. */
export function parseRewardModelMetadata(props: Record<string, string>): RewardModelMetadata {
  const missing = RESERVED_KEYS.slice(0, 8).filter((key) => props[key] === undefined);
  if (missing.length > 0) {
    throw new RewardModelError('INVALID_ONNX', `not a flywheel reward model: metadata lacks ${missing.join(', ')}`, {
      details: { missing },
    });
  }
  const featureDim = Number(props.feature_dim);
  const modelKind = props.model_kind as RewardModelKind;
  let hiddenLayers: unknown;
  let metrics: unknown;
  try {
    hiddenLayers = JSON.parse(props.hidden_layers);
    metrics = JSON.parse(props.metrics);
  } catch (cause) {
    throw new RewardModelError('INVALID_ONNX', 'hidden_layers or metrics metadata is not JSON', { cause });
  }
  const validLayers = Array.isArray(hiddenLayers) && hiddenLayers.every((h) => Number.isInteger(h) && h > 0);
  if (!Number.isInteger(featureDim) || featureDim < 1 || !['linear', 'mlp'].includes(modelKind) || !validLayers) {
    throw new RewardModelError('INVALID_ONNX', 'feature_dim, model_kind or hidden_layers metadata is malformed', {
      details: { feature_dim: props.feature_dim, model_kind: props.model_kind, hidden_layers: props.hidden_layers },
    });
  }
  const metadata: RewardModelMetadata = {
    featureDim,
    modelKind,
    hiddenLayers: hiddenLayers as number[],
    policyVersion: props.policy_version,
    preferenceSetId: props.preference_set_id,
    metrics: (metrics ?? {}) as Record<string, unknown>,
    seed: Number(props.seed),
    createdAt: props.created_at,
    dimensions: props.dimensions ? (JSON.parse(props.dimensions) as string[]) : [],
    props,
  };
  if (props.model_id !== undefined) {
    metadata.registry = { modelId: props.model_id, version: Number(props.model_version), projectId: props.project_id };
  }
  if (props.tie_model === 'davidson') metadata.ties = { model: 'davidson', nu: Number(props.tie_nu) };
  return metadata;
}

/** Appends one model's layers reading `features`; returns the name of its [N, 1] output. */
function layerGraph(model: RewardModel, prefix: string, initializer: object[], node: object[]): string {
  let current = ONNX_INPUT;
  const last = model.layers.length - 1;
  model.layers.forEach((layer, l) => {
    const weightName = `${prefix}layer${l}.weight`;
    const biasName = `${prefix}layer${l}.bias`;
    initializer.push(floatTensor(weightName, [layer.inDim, layer.outDim], transposed(layer.weights, layer.outDim, layer.inDim)));
    initializer.push(floatTensor(biasName, [layer.outDim], layer.bias));
    const product = `${prefix}layer${l}.matmul`;
    const sum = l === last ? `${prefix}score` : `${prefix}layer${l}.linear`;
    const name = `${prefix.replace(/\./g, '_')}layer${l}`;
    node.push({ op_type: 'MatMul', name: `${name}_matmul`, input: [current, weightName], output: [product] });
    node.push({ op_type: 'Add', name: `${name}_add`, input: [product, biasName], output: [sum] });
    current = sum;
    if (l < last) {
      const activated = `${prefix}layer${l}.relu`;
      node.push({ op_type: 'Relu', name: `${name}_relu`, input: [sum], output: [activated] });
      current = activated;
    }
  });
  return current;
}

/**
 * Linear heads (one layer each) share one MatMul: features [N, D] × [D, K] + bias [K] is `rewards` directly. K
 * separate [D, 1] products and a Concat cost about K times one head (3 heads: ~3× the overall model's scoring time
 * at 10,000 rows × 64 features); one [D, K] product costs about one.
 */
function packedLinearHeads(heads: readonly DimensionHead[], dim: number, initializer: object[], node: object[]): void {
  const k = heads.length;
  const weights = new Float32Array(dim * k);
  const bias = new Float32Array(k);
  heads.forEach((head, column) => {
    const layer = head.model.layers[0];
    for (let i = 0; i < dim; i++) weights[i * k + column] = layer.weights[i];
    bias[column] = layer.bias[0];
  });
  initializer.push(floatTensor('heads.weight', [dim, k], weights));
  initializer.push(floatTensor('heads.bias', [k], bias));
  node.push({ op_type: 'MatMul', name: 'heads_matmul', input: [ONNX_INPUT, 'heads.weight'], output: ['heads.matmul'] });
  node.push({ op_type: 'Add', name: 'heads_add', input: ['heads.matmul', 'heads.bias'], output: [ONNX_REWARDS] });
}

function transposed(weights: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(weights.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = weights[r * cols + c];
  return out;
}

/** raw_data must be little-endian whatever the host: write it through a DataView. */
function floatTensor(name: string, dims: number[], values: Float32Array): object {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return { name, dims, data_type: ONNX_DATA_TYPE.float, raw_data: raw };
}

function int64Tensor(name: string, dims: number[], values: number[]): object {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims, data_type: ONNX_DATA_TYPE.int64, raw_data: raw };
}

function tensorValue(name: string, dim: object[]): object {
  return { name, type: { tensor_type: { elem_type: ONNX_DATA_TYPE.float, shape: { dim } } } };
}
