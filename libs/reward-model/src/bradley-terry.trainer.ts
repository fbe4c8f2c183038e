import { LOG_NU_MAX, LOG_NU_MIN } from './bradley-terry.loss';
import {
  LayeredTrainee,
  LinearDifferenceTrainee,
  type IndexedPairs,
  type Trainee,
  type TraineeInput,
} from './trainee';
import { Prng } from './prng';
import { RewardModelError } from './reward-model.errors';
import {
  PAIR_SPLIT,
  type PreferencePairs,
  type RewardModel,
  type RewardModelKind,
  type StandardisationStats,
  type TrainingData,
} from './reward-model.types';
import { computeStandardisation, foldStandardisation } from './standardisation';
import { EXACT_MAX_WORK, fitExactLinear } from './exact-linear';

export interface TrainOptions {
  kind: RewardModelKind;
  /** Widths of the hidden layers (ReLU); MLP only. Default [64]. */
  hiddenLayers?: number[];
  /**
   * 'none' (default): Bradley–Terry, an outcome of 0.5 is a soft label. Davidson: ties get their own probability;
   * with `nu` given it stays fixed, otherwise log ν is learned, starting where P(tie | d = 0) equals the share of ties
   * among the training pairs.
   */
  ties?: 'none' | { model: 'davidson'; nu?: number };
  /** L2 penalty (λ/2)·‖W‖² on the weights (not biases), in standardised feature space. Default 1e-4. */
  l2?: number;
  /** Adam step size. Default 0.01 for linear, 0.002 for MLP. */
  learningRate?: number;
  /** Step size multiplier applied after each epoch. Default 1. */
  learningRateDecay?: number;
  /**
   * Pairs per mini-batch. Default `defaultBatchSize(train pairs)`: 1024, but small sets get at least 32 steps per
   * epoch (batches of 32 or more).
   */
  batchSize?: number;
  /**
   * A safety cap, not the stopping rule: runs stop when the validation loss stops improving (`patience`). Default
   * 1000, far above what a converging run needs (a linear model on real ratings stops after 50–120 epochs), so the
   * cap never stops a converging run at default settings; TrainResult.stoppedBy says which rule stopped it.
   */
  maxEpochs?: number;
  /** Epochs without a validation improvement of more than `minDelta` before stopping. Default 5. */
  patience?: number;
  /** Default 1e-5. */
  minDelta?: number;
  /** Seeds the initial weights and the shuffles: the same seed and data give the same weights bit for bit. */
  seed?: number;
  /** Standardise features (mean/std of the items in training pairs) and fold it into the model. Default true. */
  standardise?: boolean;
  /**
   * Threads for MLP training, the calling one included (default 1). Each mini-batch is split across them; results
   * are reproducible for a given seed and thread count. The workers run the compiled worker script, or under
   * ts-jest its TypeScript source (@flywheel/threads).
   */
  threads?: number;
  /**
   * 'adam' (default): mini-batch Adam, stopped by validation loss with patience. 'exact' (linear, no tie model):
   * the exact minimiser of the mean loss + (l2/2)·‖w‖² by Newton's method; without a given `l2`, l2 is chosen from
   * EXACT_L2_GRID by validation loss and the final fit uses train + validation pairs (see exact-linear.ts). Up to
   * EXACT_MAX_WORK pairs × features² (FETV: ~1,400 pairs × 9 features, milliseconds); above it, an error.
   */
  solver?: 'adam' | 'exact';
  onEpoch?: (report: EpochReport) => void;
}

/** 'converged': the exact solver, which has no stopping rule (TrainResult.history holds its Newton iterations). */
export type StopReason = 'patience' | 'max-epochs' | 'no-validation' | 'converged';

export type ResolvedTrainOptions = Required<Omit<TrainOptions, 'onEpoch'>>;

export interface EpochReport {
  epoch: number;
  /** Weighted mean loss over the epoch's mini-batches (without the L2 term). */
  trainLoss: number;
  /** Weighted mean loss on the validation pairs after the epoch, or null without validation pairs. */
  validationLoss: number | null;
  learningRate: number;
  seconds: number;
}

export interface TrainResult {
  /** Takes raw features: the standardisation is folded into its first layer. */
  model: RewardModel;
  /** The same weights before folding: takes standardised features. */
  standardisedModel: RewardModel;
  standardisation: StandardisationStats;
  options: ResolvedTrainOptions;
  history: EpochReport[];
  /** Epoch whose weights were kept (the best validation loss; the last epoch without validation pairs). */
  bestEpoch: number;
  stoppedEarly: boolean;
  /**
   * 'patience': the validation loss stopped improving (the intended rule). 'max-epochs': the cap stopped a run that
   * was still improving (raise maxEpochs). 'no-validation': there were no validation pairs, so it ran to the cap.
   */
  stoppedBy: StopReason;
  seconds: number;
  threads: number;
  counts: { items: number; trainItems: number; trainPairs: number; validationPairs: number; trainTies: number };
  /** The exact solver only: the l2 it used, the validation loss of each grid value, and whether it refitted on validation. */
  exact?: { l2: number; grid: { l2: number; validationLoss: number }[]; refitOnValidation: boolean };
}

/** The pairs of `pairs` whose split code equals `code` (see PAIR_SPLIT). */
export function selectPairs(pairs: PreferencePairs, split: Uint8Array, code: number): Required<PreferencePairs> {
  let count = 0;
  for (let p = 0; p < split.length; p++) if (split[p] === code) count++;
  const out: Required<PreferencePairs> = {
    a: new Int32Array(count),
    b: new Int32Array(count),
    outcome: new Float32Array(count),
    weight: new Float32Array(count),
  };
  let q = 0;
  for (let p = 0; p < split.length; p++) {
    if (split[p] !== code) continue;
    out.a[q] = pairs.a[p];
    out.b[q] = pairs.b[p];
    out.outcome[q] = pairs.outcome[p];
    out.weight[q] = pairs.weight ? pairs.weight[p] : 1;
    q++;
  }
  return out;
}

/** Train on difference vectors while they take at most this many floats (1 GiB); above it, gather per batch. */
const MAX_DIFFERENCE_FLOATS = 1 << 28;

/**
 * Fits a Bradley–Terry reward model with Adam on mini-batches, early-stopped on the validation loss (the best
 * epoch's weights are restored). Nothing is allocated per pair or per batch: every buffer is sized up front.
 *
 * A linear model's score difference is w·(x_a − x_b), so it trains on standardised difference vectors written once
 * (nTrain × D floats, in a seeded shuffled order; each epoch then visits the batches in a new order). An MLP runs
 * each mini-batch of P pairs as one forward/backward pass over 2P rows: the P first items, then the P second ones.
 */
/**
 * The default mini-batch: 1024 pairs, but at least 32 optimizer steps per epoch on small sets (and never below 32
 * pairs). Stopping counts epochs; with 1024-pair batches a 1,000-pair set took one step per epoch, so `patience`
 * counted single noisy steps and stopped runs that had barely moved (FETV: best epochs 1–7). Sets above 32,768 pairs
 * are unaffected.
 */
export function defaultBatchSize(trainPairs: number): number {
  return Math.min(1024, Math.max(32, Math.ceil(trainPairs / 32)));
}

export function trainRewardModel(data: TrainingData, options: TrainOptions): TrainResult {
  const started = performance.now();
  const opts = resolveOptions(options);
  const { features, nItems, dim } = data;
  if (!Number.isInteger(dim) || dim < 1 || !Number.isInteger(nItems) || features.length !== nItems * dim) {
    const message = `features hold ${features.length} values, not ${nItems}×${dim}`;
    throw new RewardModelError('INVALID_TRAINING_DATA', message);
  }
  const { train, validation } = viewsOf(data);
  if (options.batchSize === undefined) opts.batchSize = defaultBatchSize(train.index.length);
  assertValidPairs(train, nItems, 'train');
  assertValidPairs(validation, nItems, 'validation');
  if (train.index.length === 0) throw new RewardModelError('INVALID_TRAINING_DATA', 'no training pairs');

  const used = new Uint8Array(nItems);
  let tieWeight = 0;
  let totalWeight = 0;
  let trainTies = 0;
  for (let q = 0; q < train.index.length; q++) {
    const p = train.index[q];
    used[train.a[p]] = 1;
    used[train.b[p]] = 1;
    const w = train.weight ? train.weight[p] : 1;
    totalWeight += w;
    if (train.outcome[p] === 0.5) {
      tieWeight += w;
      trainTies++;
    }
  }
  if (!(totalWeight > 0)) throw new RewardModelError('INVALID_TRAINING_DATA', 'training pairs have zero total weight');
  if (trainTies === train.index.length) {
    throw new RewardModelError(
      'ALL_TIES',
      `every one of the ${trainTies} training pairs is a tie: there is no preference to learn (a tie model needs decisive pairs too, to learn what a reward difference means)`,
      { details: { trainPairs: trainTies } },
    );
  }
  let trainItems = 0;
  for (let i = 0; i < nItems; i++) trainItems += used[i];
  const stats = opts.standardise
    ? computeStandardisation(features, nItems, dim, used)
    : { mean: new Float32Array(dim), std: new Float32Array(dim).fill(1) };

  const counts = {
    items: nItems,
    trainItems,
    trainPairs: train.index.length,
    validationPairs: validation.index.length,
    trainTies,
  };
  if (opts.solver === 'exact') {
    const work = (train.index.length + validation.index.length) * dim * dim;
    if (work > EXACT_MAX_WORK) {
      throw invalidOption(`solver exact fits up to ${EXACT_MAX_WORK} pairs × features² (here ${work}): use solver adam for this set`);
    }
    const fit = fitExactLinear(features, dim, stats, train, validation, options.l2);
    fit.history.forEach((report) => options.onEpoch?.(report));
    const model = foldStandardisation(fit.standardisedModel, stats);
    return {
      model, standardisedModel: fit.standardisedModel, standardisation: stats, options: { ...opts, l2: fit.l2 },
      history: fit.history, bestEpoch: fit.history.length, stoppedEarly: false, stoppedBy: 'converged',
      seconds: (performance.now() - started) / 1000, threads: 1, counts,
      exact: { l2: fit.l2, grid: fit.grid, refitOnValidation: fit.refitOnValidation },
    };
  }

  const rng = new Prng(opts.seed);
  const input: TraineeInput = { features, dim, stats, train, validation, batchSize: opts.batchSize };
  const trainee: Trainee =
    opts.kind === 'linear' && train.index.length * dim <= MAX_DIFFERENCE_FLOATS
      ? new LinearDifferenceTrainee(input, rng)
      : new LayeredTrainee(input, opts.hiddenLayers, rng, opts.threads);
  try {
    const threads = trainee instanceof LayeredTrainee ? trainee.threads : 1;
    const run = runEpochs(trainee, rng, opts, options.onEpoch, validation.index.length > 0, tieWeight / totalWeight);
    const model = foldStandardisation(run.standardisedModel, stats);
    const seconds = (performance.now() - started) / 1000;
    return { model, ...run, standardisation: stats, options: opts, seconds, threads, counts };
  } finally {
    trainee.close();
  }
}

function runEpochs(
  trainee: Trainee,
  rng: Prng,
  opts: ResolvedTrainOptions,
  onEpoch: TrainOptions['onEpoch'],
  hasValidation: boolean,
  tieShareOfWeight: number,
): Pick<TrainResult, 'standardisedModel' | 'history' | 'bestEpoch' | 'stoppedEarly' | 'stoppedBy'> {
  const ties = opts.ties !== 'none';
  const learnNu = opts.ties !== 'none' && opts.ties.nu === undefined;
  let logNu = 0;
  if (opts.ties !== 'none') {
    const tieShare = Math.min(Math.max(tieShareOfWeight, 1e-4), 0.9);
    logNu = clampLogNu(Math.log(opts.ties.nu ?? (2 * tieShare) / (1 - tieShare)));
  }

  const adam = new Adam(trainee.params.length);
  const nuAdam = new Adam(1);
  const nu = new Float32Array([logNu]);
  const nuGrad = new Float32Array(1);
  const batchOut = new Float64Array(2);
  const best = trainee.params.slice();
  let bestLogNu = nu[0];
  let bestEpoch = 0;
  let bestLoss = Infinity;
  let sinceBest = 0;
  let stoppedEarly = false;
  let stoppedBy: StopReason = hasValidation ? 'max-epochs' : 'no-validation';
  const history: EpochReport[] = [];
  let learningRate = opts.learningRate;

  for (let epoch = 1; epoch <= opts.maxEpochs; epoch++) {
    const epochStart = performance.now();
    const batches = trainee.startEpoch(rng);
    let lossSum = 0;
    let weightSum = 0;
    for (let batch = 0; batch < batches; batch++) {
      trainee.trainBatch(batch, ties, nu[0], opts.l2, nuGrad, batchOut);
      if (!(batchOut[1] > 0)) continue;
      lossSum += batchOut[0];
      weightSum += batchOut[1];
      adam.step(trainee.params, trainee.grads, learningRate);
      if (learnNu) {
        nuAdam.step(nu, nuGrad, learningRate);
        nu[0] = clampLogNu(nu[0]);
      }
    }
    const validationLoss = hasValidation ? trainee.validationLoss(ties, nu[0]) : null;
    const report: EpochReport = {
      epoch,
      trainLoss: weightSum > 0 ? lossSum / weightSum : NaN,
      validationLoss,
      learningRate,
      seconds: (performance.now() - epochStart) / 1000,
    };
    history.push(report);
    onEpoch?.(report);
    learningRate *= opts.learningRateDecay;

    if (validationLoss === null || validationLoss < bestLoss - opts.minDelta) {
      // Without validation pairs every epoch counts as an improvement: the last one is kept.
      bestLoss = validationLoss ?? bestLoss;
      bestEpoch = epoch;
      best.set(trainee.params);
      bestLogNu = nu[0];
      sinceBest = 0;
    } else if (++sinceBest >= opts.patience) {
      stoppedEarly = epoch < opts.maxEpochs;
      stoppedBy = 'patience';
      break;
    }
  }

  trainee.params.set(best);
  const standardisedModel = trainee.toModel();
  if (opts.ties !== 'none') {
    standardisedModel.ties = { model: 'davidson', nu: opts.ties.nu ?? Math.exp(bestLogNu) };
  }
  return { standardisedModel, history, bestEpoch, stoppedEarly, stoppedBy };
}

function resolveOptions(options: TrainOptions): ResolvedTrainOptions {
  const kind = options.kind;
  if (kind !== 'linear' && kind !== 'mlp') throw invalidOption(`kind must be linear or mlp, got ${String(kind)}`);
  const hiddenLayers = kind === 'mlp' ? [...(options.hiddenLayers ?? [64])] : [];
  if (kind === 'linear' && options.hiddenLayers && options.hiddenLayers.length > 0) {
    throw invalidOption('a linear model has no hidden layers');
  }
  if (kind === 'mlp' && (hiddenLayers.length === 0 || hiddenLayers.some((h) => !Number.isInteger(h) || h < 1))) {
    throw invalidOption(`hiddenLayers must be positive integers, got ${JSON.stringify(options.hiddenLayers)}`);
  }
  const ties = options.ties ?? 'none';
  if (ties !== 'none' && (ties.model !== 'davidson' || (ties.nu !== undefined && !(ties.nu > 0)))) {
    throw invalidOption('ties must be "none" or { model: "davidson", nu?: number > 0 }');
  }
  const resolved: ResolvedTrainOptions = {
    kind,
    hiddenLayers,
    ties: ties === 'none' ? 'none' : { ...ties },
    l2: options.l2 ?? 1e-4,
    learningRate: options.learningRate ?? (kind === 'linear' ? 0.01 : 0.002),
    learningRateDecay: options.learningRateDecay ?? 1,
    batchSize: options.batchSize ?? 1024,
    maxEpochs: options.maxEpochs ?? 1000,
    patience: options.patience ?? 5,
    minDelta: options.minDelta ?? 1e-5,
    seed: options.seed ?? 1,
    standardise: options.standardise ?? true,
    threads: options.threads ?? 1,
    solver: options.solver ?? 'adam',
  };
  if (resolved.solver !== 'adam' && resolved.solver !== 'exact') throw invalidOption(`solver must be adam or exact, got ${String(resolved.solver)}`);
  if (resolved.solver === 'exact' && (kind !== 'linear' || resolved.ties !== 'none')) {
    throw invalidOption('solver exact fits a linear model without a tie model (kind linear, ties none)');
  }
  const positive: Array<keyof ResolvedTrainOptions> = ['learningRate', 'learningRateDecay', 'batchSize', 'maxEpochs'];
  for (const key of positive) if (!((resolved[key] as number) > 0)) throw invalidOption(`${key} must be > 0`);
  if (![resolved.batchSize, resolved.maxEpochs, resolved.threads].every((v) => Number.isInteger(v) && v >= 1)) {
    throw invalidOption('batchSize, maxEpochs and threads must be positive integers');
  }
  if (!(resolved.l2 >= 0) || !(resolved.patience >= 1) || !(resolved.minDelta >= 0)) {
    throw invalidOption('l2 and minDelta must be ≥ 0 and patience ≥ 1');
  }
  if (!Number.isFinite(resolved.seed)) throw invalidOption('seed must be a finite number');
  return resolved;
}

function invalidOption(message: string): RewardModelError {
  return new RewardModelError('INVALID_OPTIONS', message);
}

function viewsOf(data: TrainingData): { train: IndexedPairs; validation: IndexedPairs } {
  if ('split' in data) {
    const { pairs, split } = data;
    if (split.length !== pairs.a.length) {
      const message = `split has ${split.length} codes for ${pairs.a.length} pairs`;
      throw new RewardModelError('INVALID_TRAINING_DATA', message);
    }
    const indexOf = (code: number): Int32Array => {
      let count = 0;
      for (let p = 0; p < split.length; p++) if (split[p] === code) count++;
      const index = new Int32Array(count);
      let q = 0;
      for (let p = 0; p < split.length; p++) if (split[p] === code) index[q++] = p;
      return index;
    };
    return {
      train: { ...pairs, weight: pairs.weight, index: indexOf(PAIR_SPLIT.train) },
      validation: { ...pairs, weight: pairs.weight, index: indexOf(PAIR_SPLIT.validation) },
    };
  }
  const all = (pairs: PreferencePairs): IndexedPairs => ({
    ...pairs,
    weight: pairs.weight,
    index: Int32Array.from({ length: pairs.a.length }, (_, p) => p),
  });
  const empty: PreferencePairs = { a: new Int32Array(0), b: new Int32Array(0), outcome: new Float32Array(0) };
  return { train: all(data.train), validation: all(data.validation ?? empty) };
}

function assertValidPairs(view: IndexedPairs, nItems: number, name: string): void {
  const n = view.a.length;
  if (view.b.length !== n || view.outcome.length !== n || (view.weight && view.weight.length !== n)) {
    throw new RewardModelError('INVALID_TRAINING_DATA', `${name} pair arrays differ in length`);
  }
  for (let q = 0; q < view.index.length; q++) {
    const p = view.index[q];
    const a = view.a[p];
    const b = view.b[p];
    const y = view.outcome[p];
    const w = view.weight ? view.weight[p] : 1;
    if (!(a >= 0 && a < nItems && b >= 0 && b < nItems) || !(y >= 0 && y <= 1) || !(w >= 0 && w < Infinity)) {
      const message = `${name} pair ${p} is invalid (a=${a} b=${b} y=${y} w=${w})`;
      throw new RewardModelError('INVALID_TRAINING_DATA', message, {
        details: { set: name, pair: p },
      });
    }
  }
}

function clampLogNu(logNu: number): number {
  return Math.min(LOG_NU_MAX, Math.max(LOG_NU_MIN, logNu));
}

/** Adam (Kingma & Ba) with bias correction; moments in float64. */
class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;

  constructor(
    size: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  step(params: Float32Array, grads: Float32Array, learningRate: number): void {
    this.t++;
    const { m, v, beta1, beta2, epsilon } = this;
    const stepSize = (learningRate * Math.sqrt(1 - Math.pow(beta2, this.t))) / (1 - Math.pow(beta1, this.t));
    for (let i = 0; i < params.length; i++) {
      const g = grads[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      params[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) + epsilon);
    }
  }
}

