/**
 * A fully connected layer. `weights` is `outDim × inDim`, row-major (one row per output unit, like PyTorch's
 * `Linear.weight`): the forward pass then runs dot products over contiguous memory.
 */
export interface DenseLayer {
  inDim: number;
  outDim: number;
  weights: Float32Array;
  bias: Float32Array;
}

export type RewardModelKind = 'linear' | 'mlp';

/** Davidson's tie model: P(tie) = ν / (e^{d/2} + e^{−d/2} + ν) for a reward difference d. */
export interface DavidsonTies {
  model: 'davidson';
  nu: number;
}

/**
 * A scalar reward model r(x): hidden layers with ReLU, then one linear output unit. A linear model has no hidden
 * layers. Models returned by the trainer take raw features: the standardisation is folded into the first layer.
 */
export interface RewardModel {
  kind: RewardModelKind;
  inputDim: number;
  hiddenLayers: number[];
  layers: DenseLayer[];
  /** Present when the model was trained with ties. */
  ties?: DavidsonTies;
}

/**
 * Preference pairs over the rows of a feature matrix. `outcome` is 1 when item `a` was preferred, 0 when `b` was,
 * 0.5 for a tie (other values in [0, 1] are soft labels). `weight` defaults to 1 for every pair.
 */
export interface PreferencePairs {
  a: Int32Array;
  b: Int32Array;
  outcome: Float32Array;
  weight?: Float32Array;
}

/** Per-pair split codes, as used by `TrainingData.split` and `selectPairs`. */
export const PAIR_SPLIT = { train: 0, validation: 1, test: 2 } as const;

export interface FeatureMatrix {
  /** nItems × dim, row-major. */
  features: Float32Array;
  nItems: number;
  dim: number;
}

/** Training input: either one set of pairs with a split code per pair, or separate train and validation sets. */
export type TrainingData = FeatureMatrix &
  ({ pairs: PreferencePairs; split: Uint8Array } | { train: PreferencePairs; validation?: PreferencePairs });

export interface StandardisationStats {
  mean: Float32Array;
  std: Float32Array;
}
