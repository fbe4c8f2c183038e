import { RewardModelError } from './reward-model.errors';

// Hot loops call these through module-level bindings rather than `Math.…`: inside a vm context (jest's test
// environment) every global lookup goes through an interceptor, which made these kernels 5× slower under test.
const { abs, exp, floor, log1p, max, min } = Math;

export interface PairMetrics {
  pairs: number;
  /** Pairs with a winner (outcome ≠ 0.5): the ones accuracy, AUC and ECE are measured on. */
  decisivePairs: number;
  ties: number;
  /** Weighted share of decisive pairs whose winner has the higher score (an exact score tie counts one half). */
  accuracy: number;
  /** Probability that a random winner-minus-loser score difference beats a random loser-minus-winner one. */
  auc: number;
  /** Weighted mean Bradley–Terry log loss −y·log σ(d) − (1 − y)·log σ(−d) over all pairs (ties as y = 0.5). */
  logLoss: number;
  /** Expected calibration error of σ(d) over 10 equal-width bins. */
  ece: number;
}

export interface BaselineMetrics {
  accuracy: number;
  auc: number;
  logLoss: number;
  ece: number;
}

/** What a model that cannot tell items apart scores: every pair at P = 0.5. */
export function randomBaseline(): BaselineMetrics {
  return { accuracy: 0.5, auc: 0.5, logLoss: Math.LN2, ece: 0 };
}

const ECE_BINS = 10;

/**
 * Scores pairs of items against observed outcomes (1: a preferred, 0: b preferred, 0.5: tie). AUC and ECE count
 * each decisive pair in both orientations — (d, a won) and (−d, b won) — so they do not depend on which item a pair
 * builder happened to put first (a builder that always puts the winner first would otherwise leave AUC undefined).
 */
export function evaluatePairs(
  scoresA: Float32Array | Float64Array,
  scoresB: Float32Array | Float64Array,
  outcome: Float32Array,
  weight?: Float32Array,
): PairMetrics {
  const n = outcome.length;
  if (scoresA.length !== n || scoresB.length !== n || (weight && weight.length !== n)) {
    throw new RewardModelError('INVALID_EVALUATION_DATA', 'scoresA, scoresB, outcome and weight differ in length', {
      details: { scoresA: scoresA.length, scoresB: scoresB.length, outcome: n, weight: weight?.length },
    });
  }
  let decisive = 0;
  let ties = 0;
  for (let p = 0; p < n; p++) {
    if (outcome[p] === 0.5) ties++;
    else decisive++;
  }
  const margin = new Float64Array(decisive);
  const marginWeight = new Float64Array(decisive);
  const binWeight = new Float64Array(ECE_BINS);
  const binPredicted = new Float64Array(ECE_BINS);
  const binObserved = new Float64Array(ECE_BINS);
  let correct = 0;
  let decisiveWeight = 0;
  let lossSum = 0;
  let weightSum = 0;
  let q = 0;
  for (let p = 0; p < n; p++) {
    const w = weight ? weight[p] : 1;
    const d = scoresA[p] - scoresB[p];
    const y = outcome[p];
    const e = exp(-abs(d));
    const log1pE = log1p(e);
    lossSum += w * (y * (max(-d, 0) + log1pE) + (1 - y) * (max(d, 0) + log1pE));
    weightSum += w;
    if (y === 0.5) continue;
    const aWon = y > 0.5;
    decisiveWeight += w;
    correct += w * (d === 0 ? 0.5 : d > 0 === aWon ? 1 : 0);
    margin[q] = aWon ? d : -d;
    marginWeight[q] = w;
    q++;
    const pA = d >= 0 ? 1 / (1 + e) : e / (1 + e);
    for (const [predicted, observed] of [
      [pA, aWon ? 1 : 0],
      [1 - pA, aWon ? 0 : 1],
    ]) {
      const bin = min(ECE_BINS - 1, floor(predicted * ECE_BINS));
      binWeight[bin] += w;
      binPredicted[bin] += w * predicted;
      binObserved[bin] += w * observed;
    }
  }
  let ece = 0;
  let binTotal = 0;
  for (let k = 0; k < ECE_BINS; k++) binTotal += binWeight[k];
  for (let k = 0; k < ECE_BINS; k++) {
    if (binWeight[k] > 0) ece += abs(binPredicted[k] - binObserved[k]) / binTotal;
  }
  return {
    pairs: n,
    decisivePairs: decisive,
    ties,
    accuracy: decisiveWeight > 0 ? correct / decisiveWeight : NaN,
    auc: decisiveWeight > 0 ? symmetricAuc(margin, marginWeight) : NaN,
    logLoss: weightSum > 0 ? lossSum / weightSum : NaN,
    ece: binTotal > 0 ? ece : NaN,
  };
}

/**
 * Positives are the winner-minus-loser margins s_i, negatives their mirror −s_j, each with its pair's weight, so
 * AUC = Σ_i Σ_j w_i·w_j·([s_i + s_j > 0] + ½[s_i + s_j = 0]) / W². One sort, then a sweep with prefix sums.
 */
function symmetricAuc(margin: Float64Array, weight: Float64Array): number {
  const n = margin.length;
  sortParallel(margin, weight, 0, n - 1);
  const cumulative = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) cumulative[k + 1] = cumulative[k] + weight[k];
  const total = cumulative[n];
  // For ascending s_i the threshold −s_i descends, so both boundaries only move left.
  let above = n; // first index with s > −s_i
  let atOrAbove = n; // first index with s ≥ −s_i
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const threshold = -margin[i];
    while (above > 0 && margin[above - 1] > threshold) above--;
    while (atOrAbove > 0 && margin[atOrAbove - 1] >= threshold) atOrAbove--;
    const greater = total - cumulative[above];
    const equal = cumulative[above] - cumulative[atOrAbove];
    sum += weight[i] * (greater + 0.5 * equal);
  }
  return sum / (total * total);
}

/** In-place ascending quicksort of keys, moving values along (iterative, median of three, insertion sort below 16). */
function sortParallel(keys: Float64Array, values: Float64Array, lo: number, hi: number): void {
  const stack: number[] = [lo, hi];
  while (stack.length > 0) {
    const right = stack.pop() as number;
    const left = stack.pop() as number;
    if (right - left < 16) {
      insertionSort(keys, values, left, right);
      continue;
    }
    const mid = (left + right) >>> 1;
    if (keys[mid] < keys[left]) swap(keys, values, mid, left);
    if (keys[right] < keys[left]) swap(keys, values, right, left);
    if (keys[right] < keys[mid]) swap(keys, values, right, mid);
    const pivot = keys[mid];
    let i = left;
    let j = right;
    while (i <= j) {
      while (keys[i] < pivot) i++;
      while (keys[j] > pivot) j--;
      if (i <= j) swap(keys, values, i++, j--);
    }
    // Push the larger side first so the smaller is sorted next: the stack stays O(log n) deep.
    if (j - left > right - i) {
      stack.push(left, j, i, right);
    } else {
      stack.push(i, right, left, j);
    }
  }
}

function insertionSort(keys: Float64Array, values: Float64Array, lo: number, hi: number): void {
  for (let i = lo + 1; i <= hi; i++) {
    const key = keys[i];
    const value = values[i];
    let j = i - 1;
    while (j >= lo && keys[j] > key) {
      keys[j + 1] = keys[j];
      values[j + 1] = values[j];
      j--;
    }
    keys[j + 1] = key;
    values[j + 1] = value;
  }
}

function swap(keys: Float64Array, values: Float64Array, i: number, j: number): void {
  const k = keys[i];
  keys[i] = keys[j];
  keys[j] = k;
  const v = values[i];
  values[i] = values[j];
  values[j] = v;
}
