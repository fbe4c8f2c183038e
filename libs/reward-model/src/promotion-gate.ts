/**
 * The promotion gate: is a candidate reward model better than production, or only luckier on these pairs?
 *
 * Both models score the same frozen evaluation pairs (the candidate's held-out test pairs, stored with their
 * features). Per decisive pair each model is right (1), wrong (0) or undecided (an exact score tie, ½). The unit that
 * varies is the pair, and the two models are paired on it, so the test is on the per-pair differences
 * d_i = correct_candidate − correct_production (McNemar's setting: only discordant pairs move the difference).
 *
 * Rule (defaults): promote when
 *  1. both accuracies are defined and there are at least `minPairs` (200) decisive frozen pairs;
 *  2. the candidate is significantly not worse: the one-sided 95% lower bound of Δ = acc_c − acc_p, from the paired
 *     differences (Δ̂ − z·s_d/√n), is above −`nonInferiorityMargin` (1 point);
 *  3. and it is better on these pairs by more than `improvementMargin` (default 0: an exact tie keeps production,
 *     so equal models do not churn).
 * Error rate (checked by simulation in promotion-gate.spec.ts): a candidate truly worse than production by the
 * non-inferiority margin or more is promoted with probability at most 1 − confidence (5%).
 *
 * Why 200 pairs: the lower bound sits z·s_d/√n below the observed gain. With a typical 20–30% of pairs discordant,
 * s_d ≈ 0.5, so at n = 200 a candidate needs about 5 points of observed gain to pass and at n = 100 about 7: below
 * 200 the gate would only ever pass implausibly large gains, and the normal approximation to the paired difference
 * rests on few discordant pairs. With fewer pairs it refuses and says so; collect more feedback (or override).
 */
// Module-level bindings for the loops: global lookups are slow inside jest's vm context (see pair-evaluation.ts).
const { isNaN, isFinite } = Number;

export interface GateOptions {
  /** Default 0.95. */
  confidence?: number;
  /** Worst accuracy loss still counted as "not worse". Default 0.01. */
  nonInferiorityMargin?: number;
  /** The candidate's observed gain must exceed this. Default 0. */
  improvementMargin?: number;
  /** Default 200. */
  minPairs?: number;
}

export interface GateDecision {
  promote: boolean;
  reason: string;
  statistics: GateStatistics;
}

export interface GateStatistics {
  test: 'paired difference of per-pair correctness (McNemar setting), one-sided non-inferiority';
  evaluationPairs: number;
  decisivePairs: number;
  candidateAccuracy: number;
  productionAccuracy: number;
  difference: number;
  /** One-sided lower confidence bound of the difference. */
  lowerBound: number;
  /** p-value of H0: Δ ≤ −nonInferiorityMargin. */
  pValue: number;
  /** Pairs only the candidate got right / only production got right (McNemar's b and c). */
  candidateOnlyRight: number;
  productionOnlyRight: number;
  /** Exact two-sided McNemar p-value on the discordant pairs (for reference; the rule uses the bound above). */
  mcnemarPValue: number;
  confidence: number;
  nonInferiorityMargin: number;
  improvementMargin: number;
  minPairs: number;
}

export const GATE_DEFAULTS: Required<GateOptions> = {
  confidence: 0.95,
  nonInferiorityMargin: 0.01,
  improvementMargin: 0,
  minPairs: 200,
};

/** Per-pair correctness of a model on decisive pairs: 1 right, 0 wrong, ½ for an exact score tie; NaN on ties. */
export function pairCorrectness(scoresA: ArrayLike<number>, scoresB: ArrayLike<number>, outcome: ArrayLike<number>): Float64Array {
  const out = new Float64Array(outcome.length);
  for (let p = 0; p < outcome.length; p++) {
    const y = outcome[p];
    const d = scoresA[p] - scoresB[p];
    out[p] = y === 0.5 ? NaN : !isFinite(d) ? NaN : d === 0 ? 0.5 : d > 0 === y > 0.5 ? 1 : 0;
  }
  return out;
}

/** The paired per-pair correctness differences of two models on the same pairs (NaN entries, i.e. ties, skipped). */
interface PairedSummary {
  n: number;
  candidateAccuracy: number;
  productionAccuracy: number;
  difference: number;
  /** Standard error of the mean difference. */
  se: number;
  /** McNemar's b and c: pairs only the candidate / only production got right. */
  b: number;
  c: number;
  /** Pairs with a non-finite score from one model only. */
  undefinedScores: number;
}

function pairedSummary(candidate: Float64Array, production: Float64Array): PairedSummary {
  let n = 0;
  let sumC = 0;
  let sumP = 0;
  let sumD = 0;
  let sumD2 = 0;
  let b = 0;
  let c = 0;
  let undefinedScores = 0;
  for (let i = 0; i < candidate.length; i++) {
    const x = candidate[i];
    const y = production[i];
    if (isNaN(x) !== isNaN(y)) undefinedScores++;
    if (isNaN(x) || isNaN(y)) continue;
    n++;
    sumC += x;
    sumP += y;
    const d = x - y;
    sumD += d;
    sumD2 += d * d;
    if (d > 0) b++;
    else if (d < 0) c++;
  }
  const difference = n > 0 ? sumD / n : NaN;
  const variance = n > 1 ? Math.max(0, (sumD2 - n * difference * difference) / (n - 1)) : NaN;
  return {
    n, candidateAccuracy: n > 0 ? sumC / n : NaN, productionAccuracy: n > 0 ? sumP / n : NaN, difference,
    se: Math.sqrt(variance / n), b, c, undefinedScores,
  };
}

/** Compares candidate and production correctness on the same pairs (NaN entries, i.e. ties, are skipped). */
export function promotionGate(candidate: Float64Array, production: Float64Array, options: GateOptions = {}): GateDecision {
  const o = { ...GATE_DEFAULTS, ...options };
  const { n, candidateAccuracy, productionAccuracy, difference, se, b, c, undefinedScores } = pairedSummary(candidate, production);
  const z = normalQuantile(o.confidence);
  const lowerBound = difference - z * se;
  const shifted = difference + o.nonInferiorityMargin;
  const pValue = !(n > 1) ? NaN : se > 0 ? 1 - normalCdf(shifted / se) : shifted > 0 ? 0 : 1;
  const statistics: GateStatistics = {
    test: 'paired difference of per-pair correctness (McNemar setting), one-sided non-inferiority',
    evaluationPairs: candidate.length, decisivePairs: n, candidateAccuracy, productionAccuracy, difference,
    lowerBound, pValue, candidateOnlyRight: b, productionOnlyRight: c, mcnemarPValue: exactMcNemar(b, c),
    confidence: o.confidence, nonInferiorityMargin: o.nonInferiorityMargin, improvementMargin: o.improvementMargin,
    minPairs: o.minPairs,
  };
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const refuse = (reason: string): GateDecision => ({ promote: false, reason, statistics });
  if (undefinedScores > 0) return refuse(`${undefinedScores} frozen pairs got a non-finite score from one model only: accuracy is not defined`);
  if (!isFinite(candidateAccuracy) || !isFinite(productionAccuracy)) {
    return refuse('accuracy is not defined on the frozen pairs (no decisive pair): a model without a defined accuracy is never promoted');
  }
  if (n < o.minPairs) {
    return refuse(`only ${n} decisive frozen pairs (the gate needs ${o.minPairs} to tell a real gain from luck): kept as a candidate`);
  }
  const summary = `accuracy ${pct(candidateAccuracy)} vs production ${pct(productionAccuracy)} on ${n} frozen pairs (Δ ${(100 * difference).toFixed(2)} points, ${pct(o.confidence)} lower bound ${(100 * lowerBound).toFixed(2)}, p = ${pValue.toPrecision(3)})`;
  if (!(lowerBound > -o.nonInferiorityMargin)) {
    return refuse(`${summary}: not significantly better than ${(100 * o.nonInferiorityMargin).toFixed(1)} points worse`);
  }
  if (!(difference > o.improvementMargin)) {
    return refuse(`${summary}: not worse, but not better by more than ${(100 * o.improvementMargin).toFixed(1)} points`);
  }
  return { promote: true, reason: `${summary}: significantly not worse and better`, statistics };
}

/** One dimension head of candidate and production on that head's own frozen pairs. */
export interface HeadGateStatistics {
  name: string;
  /** False when the head could not be compared (too few pairs, production has no such head): it does not block. */
  gated: boolean;
  /** The candidate's head is significantly worse than production's: promotion is blocked. */
  worse: boolean;
  reason: string;
  decisivePairs: number;
  candidateAccuracy: number;
  productionAccuracy: number;
  difference: number;
  /** One-sided upper confidence bound of Δ at `confidence` (already Bonferroni-adjusted over the compared heads). */
  upperBound: number;
  /** p-value of H0: Δ ≥ 0 (the head is not worse). */
  pValue: number;
  confidence: number;
}

/**
 * The per-dimension check that runs next to the overall gate when both models have dimension heads: a deployment
 * that weights several heads (DanceGRPO-style trainers mix per-dimension rewards) must not silently lose one. Each
 * head compared is tested on its own frozen pairs (the candidate's test pairs labelled for that dimension) for being
 * significantly **worse** — a one-sided paired test of Δ < 0 at level (1 − confidence)/heads (Bonferroni, so a
 * candidate whose heads are all truly as good as production's is blocked at most 5% of the time in all). It does not
 * ask each head to prove itself better: the overall gate decides whether the candidate is an improvement; a head
 * only vetoes. Below `minPairs` decisive pairs a head is reported and not gated (the test would rest on too few
 * discordant pairs).
 */
export function headGate(
  name: string, candidate: Float64Array, production: Float64Array, options: { heads: number; confidence?: number; minPairs?: number },
): HeadGateStatistics {
  const confidence = 1 - (1 - (options.confidence ?? GATE_DEFAULTS.confidence)) / Math.max(1, options.heads);
  const minPairs = options.minPairs ?? GATE_DEFAULTS.minPairs;
  const s = pairedSummary(candidate, production);
  const upperBound = s.difference + normalQuantile(confidence) * s.se;
  const pValue = !(s.n > 1) ? NaN : s.se > 0 ? normalCdf(s.difference / s.se) : s.difference < 0 ? 0 : 1;
  const base = {
    name, decisivePairs: s.n, candidateAccuracy: s.candidateAccuracy, productionAccuracy: s.productionAccuracy,
    difference: s.difference, upperBound, pValue, confidence,
  };
  const points = (x: number) => (100 * x).toFixed(2);
  if (s.undefinedScores > 0 || !isFinite(s.difference)) {
    return { ...base, gated: false, worse: false, reason: `${name}: accuracy not defined on its ${candidate.length} frozen pairs: not gated` };
  }
  if (s.n < minPairs) {
    return { ...base, gated: false, worse: false, reason: `${name}: only ${s.n} decisive frozen pairs (needs ${minPairs}): not gated` };
  }
  const worse = upperBound < 0;
  const summary = `${name}: Δ ${points(s.difference)} points on ${s.n} pairs, upper bound ${points(upperBound)} (p = ${pValue.toPrecision(3)})`;
  return { ...base, gated: true, worse, reason: worse ? `${summary}: significantly worse than production` : `${summary}: not significantly worse` };
}

/** Exact two-sided McNemar p-value: binomial(b + c, ½) tail at min(b, c), doubled, capped at 1. */
export function exactMcNemar(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  let logTerm = -n * Math.LN2; // log C(n, 0)·2^−n
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    tail += Math.exp(logTerm);
    logTerm += Math.log((n - i) / (i + 1));
  }
  return Math.min(1, 2 * tail);
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erf; |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Φ⁻¹(p) by bisection on normalCdf (called once per decision). */
export function normalQuantile(p: number): number {
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
