import { pairLoss } from './bradley-terry.loss';
import { LayeredNetwork, parameterCount } from './layered-network';
import { Prng } from './prng';

describe('LayeredNetwork', () => {
  const dim = 5;
  const nItems = 40;
  const rng = new Prng(3);
  const features = Float32Array.from({ length: nItems * dim }, () => rng.nextNormal() * 2 + 1);
  const mean = new Float32Array(dim).fill(1);
  const std = new Float32Array(dim).fill(2);
  const nPairs = 24;
  const view = {
    a: Int32Array.from({ length: nPairs }, (_, p) => p),
    b: Int32Array.from({ length: nPairs }, (_, p) => nItems - 1 - p),
    outcome: Float32Array.from({ length: nPairs }, (_, p) => [1, 0, 0.5, 0.8][p % 4]),
    weight: Float32Array.from({ length: nPairs }, (_, p) => 0.5 + (p % 3)),
  };
  const order = Int32Array.from({ length: nPairs }, (_, p) => p);

  /** Σ w·loss in float64, parameters laid out [W₀ (out × in), b₀, W₁, b₁, …]. */
  function referenceLoss(theta: Float64Array, dims: number[]): number {
    const reward = (item: number): number => {
      let act = Array.from({ length: dim }, (_, k) => (features[item * dim + k] - mean[k]) / std[k]);
      let offset = 0;
      for (let l = 0; l + 1 < dims.length; l++) {
        const [inDim, outDim] = [dims[l], dims[l + 1]];
        const next = Array.from({ length: outDim }, (_, o) => {
          let z = theta[offset + inDim * outDim + o];
          for (let i = 0; i < inDim; i++) z += theta[offset + o * inDim + i] * act[i];
          return l + 2 < dims.length ? Math.max(z, 0) : z;
        });
        offset += inDim * outDim + outDim;
        act = next;
      }
      return act[0];
    };
    let sum = 0;
    for (let p = 0; p < nPairs; p++) {
      sum += view.weight[p] * pairLoss(reward(view.a[p]) - reward(view.b[p]), view.outcome[p]);
    }
    return sum;
  }

  it.each([
    ['linear', [dim, 1]],
    ['one hidden layer', [dim, 7, 1]],
    ['two hidden layers', [dim, 6, 4, 1]],
  ])('back-propagates the exact gradient of the weighted pair loss (%s)', (_, dims) => {
    const size = parameterCount(dims);
    const params = new Float32Array(size);
    const grads = new Float32Array(size);
    const network = new LayeredNetwork(dims, nPairs, params, grads, features, mean, std);
    network.initialise(new Prng(9));
    // A linear model starts at zero; give it weights so the check is not trivial.
    for (let i = 0; i < size; i++) params[i] += 0.2 * Math.sin(i + 1);
    const out = new Float64Array(3);
    network.accumulate(view, order, 0, nPairs, false, 0, out);
    const analytic = grads.slice();

    expect(out[0]).toBeCloseTo(referenceLoss(Float64Array.from(params), dims), 3);
    // Central differences on a float64 reference forward pass (float32 rounding would swamp a small step).
    const theta = Float64Array.from(params);
    const h = 1e-5;
    for (let i = 0; i < size; i++) {
      const saved = theta[i];
      theta[i] = saved + h;
      const up = referenceLoss(theta, dims);
      theta[i] = saved - h;
      const down = referenceLoss(theta, dims);
      theta[i] = saved;
      expect(Math.abs(analytic[i] - (up - down) / (2 * h))).toBeLessThan(1e-3 * (1 + Math.abs(analytic[i])));
    }
  });

  it('sums the loss of any number of pairs in chunks', () => {
    const dims = [dim, 4, 1];
    const size = parameterCount(dims);
    const small = new LayeredNetwork(dims, 5, new Float32Array(size), new Float32Array(size), features, mean, std);
    small.initialise(new Prng(1));
    const large = new LayeredNetwork(dims, nPairs, small.params, new Float32Array(size), features, mean, std);
    const [lossSmall, weightSmall] = small.lossSum(view, order, 0, nPairs, false, 0);
    const [lossLarge, weightLarge] = large.lossSum(view, order, 0, nPairs, false, 0);
    expect(lossSmall).toBeCloseTo(lossLarge, 4);
    expect(weightSmall).toBe(weightLarge);
  });
});
