/** Newton steps of the exact linear solver and of the logistic-regression baseline share this one solve. */

/** Solves H·s = g for a symmetric positive-definite H given by its lower triangle (Cholesky, in place on a copy). */
export function solveSymmetric(lower: Float64Array, g: Float64Array, dim: number): Float64Array {
  const l = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = lower[i * dim + j];
      for (let k = 0; k < j; k++) sum -= l[i * dim + k] * l[j * dim + k];
      l[i * dim + j] = i === j ? Math.sqrt(Math.max(sum, 1e-300)) : sum / l[j * dim + j];
    }
  }
  const y = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    let sum = g[i];
    for (let k = 0; k < i; k++) sum -= l[i * dim + k] * y[k];
    y[i] = sum / l[i * dim + i];
  }
  const s = new Float64Array(dim);
  for (let i = dim - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < dim; k++) sum -= l[k * dim + i] * s[k];
    s[i] = sum / l[i * dim + i];
  }
  return s;
}
