import type { IndexedPairs } from './trainee';
import type { RewardModel, StandardisationStats } from './reward-model.types';
import { solveSymmetric } from './cholesky';

/**
 * The L2 strengths the exact solver chooses among on the validation pairs (λ of (λ/2)·‖w‖² next to the weighted
 * mean loss, in standardised feature space). 1e-5 is as weak as an outsider's logistic regression with C = 1 on a
 * few thousand pairs; 1 shrinks the weights to a small fraction of their unregularised size.
 */
export const EXACT_L2_GRID: readonly number[] = [1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1];

/** One Newton iteration, reported like a training epoch (learningRate: the step fraction taken). */
export interface NewtonIteration {
  epoch: number;
  trainLoss: number;
  validationLoss: number | null;
  learningRate: number;
  seconds: number;
}

/** The exact solver is used up to this many pairs × features² (one Newton pass each iteration, float64). */
export const EXACT_MAX_WORK = 1 << 26;

export interface ExactFit {
  standardisedModel: RewardModel;
  l2: number;
  /** Validation loss per grid value (empty when l2 was fixed or there were no validation pairs). */
  grid: { l2: number; validationLoss: number }[];
  history: NewtonIteration[];
  /** True when the final fit also used the validation pairs (after they chose l2). */
  refitOnValidation: boolean;
}

interface Rows {
  x: Float64Array;
  y: Float64Array;
  w: Float64Array;
  n: number;
}

/**
 * Linear Bradley–Terry fitted exactly: the minimiser of the weighted mean logistic loss of w·Δz plus (λ/2)·‖w‖²
 * (strictly convex, so Newton's method finds it to machine precision; no learning rate, epochs or stopping rule).
 * With validation pairs and no fixed λ, λ is chosen from EXACT_L2_GRID by validation loss (weights warm-started
 * from the strongest λ down), and the final fit uses the training and validation pairs at that λ, as an outsider's
 * cross-validated logistic regression refits on all its data. Outcomes in [0, 1] are soft labels (a tie is ½).
 */
export function fitExactLinear(
  features: Float32Array,
  dim: number,
  stats: StandardisationStats,
  train: IndexedPairs,
  validation: IndexedPairs,
  fixedL2: number | undefined,
): ExactFit {
  const trainRows = rowsOf(features, dim, stats, train);
  const validationRows = rowsOf(features, dim, stats, validation);
  const grid: ExactFit['grid'] = [];
  let l2 = fixedL2 ?? 1e-4;
  let refit = false;
  if (fixedL2 === undefined && validationRows.n > 0) {
    const beta = new Float64Array(dim);
    let best = Infinity;
    for (const candidate of [...EXACT_L2_GRID].reverse()) {
      newton(trainRows, dim, candidate, beta, []);
      const loss = meanLoss(validationRows, dim, beta);
      grid.push({ l2: candidate, validationLoss: loss });
      if (loss < best - 1e-12) {
        best = loss;
        l2 = candidate;
      }
    }
    refit = true;
  }
  const rows = refit ? concatRows(trainRows, validationRows, dim) : trainRows;
  const beta = new Float64Array(dim);
  const history: NewtonIteration[] = [];
  newton(rows, dim, l2, beta, history, validationRows);
  const standardisedModel: RewardModel = {
    kind: 'linear',
    inputDim: dim,
    hiddenLayers: [],
    layers: [{ inDim: dim, outDim: 1, weights: Float32Array.from(beta), bias: new Float32Array(1) }],
  };
  return { standardisedModel, l2, grid: grid.reverse(), history, refitOnValidation: refit };
}

function rowsOf(features: Float32Array, dim: number, stats: StandardisationStats, view: IndexedPairs): Rows {
  const n = view.index.length;
  const x = new Float64Array(n * dim);
  const y = new Float64Array(n);
  const w = new Float64Array(n);
  for (let q = 0; q < n; q++) {
    const p = view.index[q];
    const ra = view.a[p] * dim;
    const rb = view.b[p] * dim;
    for (let k = 0; k < dim; k++) x[q * dim + k] = (features[ra + k] - features[rb + k]) / stats.std[k];
    y[q] = view.outcome[p];
    w[q] = view.weight ? view.weight[p] : 1;
  }
  return { x, y, w, n };
}

function concatRows(a: Rows, b: Rows, dim: number): Rows {
  const x = new Float64Array((a.n + b.n) * dim);
  x.set(a.x);
  x.set(b.x, a.n * dim);
  const y = new Float64Array(a.n + b.n);
  y.set(a.y);
  y.set(b.y, a.n);
  const w = new Float64Array(a.n + b.n);
  w.set(a.w);
  w.set(b.w, a.n);
  return { x, y, w, n: a.n + b.n };
}

/** log(1 + e^{−d})·y + log(1 + e^{d})·(1 − y), stably. */
function logistic(d: number, y: number): number {
  const softplus = (t: number) => (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t)));
  return y * softplus(-d) + (1 - y) * softplus(d);
}

function meanLoss(rows: Rows, dim: number, beta: Float64Array): number {
  let sum = 0;
  let weight = 0;
  for (let q = 0; q < rows.n; q++) {
    let d = 0;
    for (let k = 0; k < dim; k++) d += beta[k] * rows.x[q * dim + k];
    sum += rows.w[q] * logistic(d, rows.y[q]);
    weight += rows.w[q];
  }
  return weight > 0 ? sum / weight : NaN;
}

/** Newton's method from `beta` (updated in place) on the weighted mean loss + (λ/2)‖β‖², with step halving. */
function newton(rows: Rows, dim: number, l2: number, beta: Float64Array, history: NewtonIteration[], validation?: Rows): void {
  let totalWeight = 0;
  for (let q = 0; q < rows.n; q++) totalWeight += rows.w[q];
  const scale = totalWeight > 0 ? 1 / totalWeight : 0;
  const objective = (b: Float64Array) => {
    let penalty = 0;
    for (let k = 0; k < dim; k++) penalty += b[k] * b[k];
    return (totalWeight > 0 ? meanLoss(rows, dim, b) : 0) + 0.5 * l2 * penalty;
  };
  const gradient = new Float64Array(dim);
  const hessian = new Float64Array(dim * dim);
  const trial = new Float64Array(dim);
  let current = objective(beta);
  for (let iteration = 1; iteration <= 100; iteration++) {
    const started = performance.now();
    hessian.fill(0);
    for (let k = 0; k < dim; k++) {
      gradient[k] = l2 * beta[k];
      hessian[k * dim + k] = l2;
    }
    for (let q = 0; q < rows.n; q++) {
      const row = q * dim;
      let d = 0;
      for (let k = 0; k < dim; k++) d += beta[k] * rows.x[row + k];
      const prob = d >= 0 ? 1 / (1 + Math.exp(-d)) : Math.exp(d) / (1 + Math.exp(d));
      const w = rows.w[q] * scale;
      const g = w * (prob - rows.y[q]);
      const h = w * prob * (1 - prob);
      for (let k = 0; k < dim; k++) {
        const xk = rows.x[row + k];
        gradient[k] += g * xk;
        const hx = h * xk;
        for (let j = 0; j <= k; j++) hessian[k * dim + j] += hx * rows.x[row + j];
      }
    }
    const step = solveSymmetric(hessian, gradient, dim);
    let size = 0;
    let factor = 1;
    let next = current;
    for (let halving = 0; halving < 30; halving++) {
      for (let k = 0; k < dim; k++) trial[k] = beta[k] - factor * step[k];
      next = objective(trial);
      if (next <= current) break;
      factor /= 2;
    }
    for (let k = 0; k < dim; k++) {
      size = Math.max(size, Math.abs(beta[k] - trial[k]));
      beta[k] = trial[k];
    }
    current = next;
    history.push({
      epoch: iteration,
      trainLoss: totalWeight > 0 ? meanLoss(rows, dim, beta) : NaN,
      validationLoss: validation && validation.n > 0 ? meanLoss(validation, dim, beta) : null,
      learningRate: factor,
      seconds: (performance.now() - started) / 1000,
    });
    if (size < 1e-10) break;
  }
}
