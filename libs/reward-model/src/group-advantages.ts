/**
 * Group-normalised advantages, as GRPO-style trainers compute them from the rewards of one prompt's rollouts:
 * `(r − mean_group) / std_group`, in float64.
 *
 * - std is the **population** standard deviation (divide by n, numpy's default `np.std`, which Flow-GRPO's
 *   per-prompt stat tracker uses). For the sample one (n − 1, `torch.std`'s default) multiply an advantage by
 *   `sqrt((n − 1) / n)`.
 * - A group whose rewards are all equal — a group of one, or a zero std — has advantage 0 for every member: no
 *   rollout is better than another. No epsilon is added anywhere else, so a tiny but real spread is scaled up to
 *   unit variance like any other.
 *
 * `values[offset + i * stride]` is candidate i's reward (stride/offset read one column of a row-major [n × K]
 * matrix); `groupOf[i]` is its group, in [0, groupCount).
 */
export function groupAdvantages(
  values: ArrayLike<number>,
  groupOf: ArrayLike<number>,
  groupCount: number,
  stride = 1,
  offset = 0,
): Float64Array {
  const n = groupOf.length;
  const size = new Float64Array(groupCount);
  const sum = new Float64Array(groupCount);
  const min = new Float64Array(groupCount).fill(Infinity);
  const max = new Float64Array(groupCount).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    const v = values[offset + i * stride];
    size[g]++;
    sum[g] += v;
    if (v < min[g]) min[g] = v;
    if (v > max[g]) max[g] = v;
  }
  const mean = new Float64Array(groupCount);
  for (let g = 0; g < groupCount; g++) mean[g] = size[g] > 0 ? sum[g] / size[g] : 0;
  // Two passes (sum of squared deviations from the mean), not E[x²] − E[x]²: no cancellation for large rewards.
  const squares = new Float64Array(groupCount);
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    const d = values[offset + i * stride] - mean[g];
    squares[g] += d * d;
  }
  const std = new Float64Array(groupCount);
  for (let g = 0; g < groupCount; g++) std[g] = max[g] > min[g] ? Math.sqrt(squares[g] / size[g]) : 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = groupOf[i];
    out[i] = std[g] > 0 ? (values[offset + i * stride] - mean[g]) / std[g] : 0;
  }
  return out;
}
