import type { DavidsonTies } from './reward-model.types';

// Hot loops call these through module-level bindings rather than `Math.…`: inside a vm context (jest's test
// environment) every global lookup goes through an interceptor, which made these kernels 5× slower under test.
const { abs, exp, log, log1p, max } = Math;

/*
 * Bradley–Terry: P(a ≻ b) = σ(d) with d = r(a) − r(b). Without a tie model an outcome y in [0, 1] is a soft label,
 * loss = −y·log σ(d) − (1 − y)·log σ(−d), so a tie (0.5) only pulls d toward 0.
 *
 * With ties we use Davidson (1970) rather than Rao–Kupper: P(a) ∝ e^{d/2}, P(b) ∝ e^{−d/2}, P(tie) ∝ ν, normalised
 * by Z = e^{d/2} + e^{−d/2} + ν. It stays a function of d alone, reduces exactly to Bradley–Terry at ν = 0, and its
 * gradients are closed-form: ∂log Z/∂d = (P(a) − P(b))/2 and ∂log Z/∂θ = P(tie) for θ = log ν. Rao–Kupper's
 * threshold makes P(tie) depend on a difference of two sigmoids and gives no such simplification. An outcome of
 * exactly 0.5 is then a tie; any other outcome y mixes the two decisive terms with weights y and 1 − y.
 */

/** Bounds on θ = log ν: keeps e^{θ−|d|/2} finite and the tie probability away from exactly 0 or 1. */
export const LOG_NU_MIN = -20;
export const LOG_NU_MAX = 10;

/**
 * Loss of one pair and its gradients, written into `out` (no allocation on the hot path): out[0] = loss,
 * out[1] = ∂loss/∂d, out[2] = ∂loss/∂θ (0 without ties). `logNu` is ignored unless `ties` is true.
 */
export function pairLossGrad(d: number, y: number, ties: boolean, logNu: number, out: Float64Array): void {
  if (!ties) {
    // softplus(x) = max(x, 0) + log1p(e^{−|x|}); σ(d) computed from the same exponential.
    const e = exp(-abs(d));
    const log1pE = log1p(e);
    const sigma = d >= 0 ? 1 / (1 + e) : e / (1 + e);
    out[0] = y * (max(-d, 0) + log1pE) + (1 - y) * (max(d, 0) + log1pE);
    out[1] = sigma - y;
    out[2] = 0;
    return;
  }
  const half = abs(d) * 0.5;
  const eTwo = exp(-2 * half);
  const eNu = exp(logNu - half);
  const logZ = half + log1p(eTwo + eNu);
  const pA = exp(d * 0.5 - logZ);
  const pB = exp(-d * 0.5 - logZ);
  const pTie = exp(logNu - logZ);
  const dLogZ = (pA - pB) * 0.5;
  if (y === 0.5) {
    out[0] = logZ - logNu;
    out[1] = dLogZ;
    out[2] = pTie - 1;
  } else {
    out[0] = logZ + d * (0.5 - y);
    out[1] = dLogZ + 0.5 - y;
    out[2] = pTie;
  }
}

/** Loss of one pair for a reward difference d = r(a) − r(b); with `ties`, Davidson's model with their ν. */
export function pairLoss(d: number, outcome: number, ties?: DavidsonTies): number {
  const out = new Float64Array(3);
  pairLossGrad(d, outcome, ties !== undefined, ties ? log(ties.nu) : 0, out);
  return out[0];
}

/** P(a ≻ b), P(b ≻ a) and P(tie) for a reward difference d (P(tie) = 0 without a tie model). */
export function pairProbabilities(d: number, ties?: DavidsonTies): { a: number; b: number; tie: number } {
  const logNu = ties ? log(ties.nu) : -Infinity;
  // Divide through by e^{|d|/2} so nothing overflows for large |d|.
  const half = abs(d) * 0.5;
  const big = 1;
  const small = exp(-2 * half);
  const tie = exp(logNu - half);
  const z = big + small + tie;
  return d >= 0 ? { a: big / z, b: small / z, tie: tie / z } : { a: small / z, b: big / z, tie: tie / z };
}
