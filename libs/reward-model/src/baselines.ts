import { RewardModelError } from './reward-model.errors';
import type { PreferencePairs, RewardModel } from './reward-model.types';
import { computeStandardisation, foldStandardisation } from './standardisation';
import { solveSymmetric } from './cholesky';

const { abs, exp, sqrt } = Math;

/**
 * Baselines a reward model has to beat to mean anything, each fitted on the training pairs only and scored on the
 * same held-out pairs as the model:
 * - per-generator mean: which generator made a video (its win share in training pairs), the prior a product team
 *   already has;
 * - best single feature: the one feature (with its sign) that orders training pairs best;
 * - logistic-regression Bradley–Terry: L2-regularised logistic regression on standardised feature differences, no
 *   intercept (C = 1, as scikit-learn's default), fitted to convergence by Newton's method — what an outsider would
 *   fit first on the same features.
 */

/**
 * Each item's score is its generator's smoothed win share over the training pairs it appears in:
 * (wins + ½·ties + 1) / (appearances + 2), so a generator never seen in training scores ½.
 */
export function perGeneratorScores(generatorOf: Int32Array, train: PreferencePairs): Float32Array {
  let generators = 0;
  for (let i = 0; i < generatorOf.length; i++) generators = Math.max(generators, generatorOf[i] + 1);
  const wins = new Float64Array(generators);
  const seen = new Float64Array(generators);
  for (let p = 0; p < train.a.length; p++) {
    const w = train.weight ? train.weight[p] : 1;
    const ga = generatorOf[train.a[p]];
    const gb = generatorOf[train.b[p]];
    wins[ga] += w * train.outcome[p];
    wins[gb] += w * (1 - train.outcome[p]);
    seen[ga] += w;
    seen[gb] += w;
  }
  return Float32Array.from(generatorOf, (g) => (wins[g] + 1) / (seen[g] + 2));
}

/**
 * The feature whose value, with the better sign, orders the decisive training pairs best (equal values count ½).
 * Returns its index, sign, training accuracy and the items' scores (sign × feature).
 */
export function bestSingleFeature(
  features: Float32Array,
  nItems: number,
  dim: number,
  train: PreferencePairs,
): { feature: number; sign: 1 | -1; trainAccuracy: number; scores: Float32Array } {
  let best = { feature: 0, sign: 1 as 1 | -1, trainAccuracy: -1 };
  for (let k = 0; k < dim; k++) {
    let correct = 0;
    let total = 0;
    for (let p = 0; p < train.a.length; p++) {
      const y = train.outcome[p];
      if (y === 0.5) continue;
      const w = train.weight ? train.weight[p] : 1;
      const d = features[train.a[p] * dim + k] - features[train.b[p] * dim + k];
      correct += w * (d === 0 ? 0.5 : d > 0 === y > 0.5 ? 1 : 0);
      total += w;
    }
    const accuracy = total > 0 ? correct / total : 0.5;
    const signed = accuracy >= 0.5 ? { sign: 1 as const, accuracy } : { sign: -1 as const, accuracy: 1 - accuracy };
    if (signed.accuracy > best.trainAccuracy) best = { feature: k, sign: signed.sign, trainAccuracy: signed.accuracy };
  }
  const scores = new Float32Array(nItems);
  for (let i = 0; i < nItems; i++) scores[i] = best.sign * features[i * dim + best.feature];
  return { ...best, scores };
}

export interface LogisticBtOptions {
  /** Inverse regularisation strength: minimises C·Σ w·logloss + ½‖β‖². Default 1. */
  c?: number;
  maxIterations?: number;
}

/**
 * Logistic-regression Bradley–Terry: P(a ≻ b) = σ(β·(z_a − z_b)) on features standardised over the training items,
 * no intercept, fitted by Newton's method (the objective is strictly convex, so this is the exact optimum, not an
 * early-stopped approximation). Ties count as y = ½. Returns a linear RewardModel on raw features.
 */
export function logisticRegressionBt(
  features: Float32Array,
  nItems: number,
  dim: number,
  train: PreferencePairs,
  options: LogisticBtOptions = {},
): { model: RewardModel; iterations: number } {
  const c = options.c ?? 1;
  const maxIterations = options.maxIterations ?? 50;
  const n = train.a.length;
  if (n === 0) throw new RewardModelError('INVALID_TRAINING_DATA', 'logistic regression needs training pairs');
  const used = new Uint8Array(nItems);
  for (let p = 0; p < n; p++) used[train.a[p]] = used[train.b[p]] = 1;
  const stats = computeStandardisation(features, nItems, dim, used);
  const x = new Float64Array(n * dim);
  for (let p = 0; p < n; p++) {
    const ra = train.a[p] * dim;
    const rb = train.b[p] * dim;
    for (let k = 0; k < dim; k++) x[p * dim + k] = (features[ra + k] - features[rb + k]) / stats.std[k];
  }
  const beta = new Float64Array(dim);
  const gradient = new Float64Array(dim);
  const hessian = new Float64Array(dim * dim);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    gradient.fill(0);
    hessian.fill(0);
    for (let k = 0; k < dim; k++) {
      gradient[k] = beta[k];
      hessian[k * dim + k] = 1;
    }
    for (let p = 0; p < n; p++) {
      const row = p * dim;
      let d = 0;
      for (let k = 0; k < dim; k++) d += beta[k] * x[row + k];
      const prob = d >= 0 ? 1 / (1 + exp(-d)) : exp(d) / (1 + exp(d));
      const w = c * (train.weight ? train.weight[p] : 1);
      const g = w * (prob - train.outcome[p]);
      const h = w * prob * (1 - prob);
      for (let k = 0; k < dim; k++) {
        const xk = x[row + k];
        gradient[k] += g * xk;
        const hx = h * xk;
        for (let j = 0; j <= k; j++) hessian[k * dim + j] += hx * x[row + j];
      }
    }
    const step = solveSymmetric(hessian, gradient, dim);
    let size = 0;
    for (let k = 0; k < dim; k++) {
      beta[k] -= step[k];
      size = Math.max(size, abs(step[k]));
    }
    if (size < 1e-9) {
      iterations++;
      break;
    }
  }
  const standardised: RewardModel = {
    kind: 'linear',
    inputDim: dim,
    hiddenLayers: [],
    layers: [{ inDim: dim, outDim: 1, weights: Float32Array.from(beta), bias: new Float32Array(1) }],
  };
  // The intercept cancels in a difference: centring changes nothing, so fold the scale only.
  return { model: foldStandardisation(standardised, { mean: new Float32Array(dim), std: stats.std }), iterations };
}
