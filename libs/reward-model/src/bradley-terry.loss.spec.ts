import { pairLoss, pairLossGrad, pairProbabilities } from './bradley-terry.loss';

describe('Bradley–Terry and Davidson pair losses', () => {
  const out = new Float64Array(3);
  const loss = (d: number, y: number, ties: boolean, logNu: number): number => {
    pairLossGrad(d, y, ties, logNu, out);
    return out[0];
  };

  it('is ln 2 at d = 0 without ties, and σ-based for decisive outcomes', () => {
    expect(pairLoss(0, 1)).toBeCloseTo(Math.LN2, 12);
    expect(pairLoss(2, 1)).toBeCloseTo(Math.log1p(Math.exp(-2)), 12);
    expect(pairLoss(2, 0)).toBeCloseTo(Math.log1p(Math.exp(2)), 12);
    expect(Number.isFinite(pairLoss(1e4, 0))).toBe(true);
  });

  it('changes the loss of a tie (outcome 0.5) when the Davidson option is on', () => {
    const bradleyTerry = pairLoss(0, 0.5);
    const davidson = pairLoss(0, 0.5, { model: 'davidson', nu: 1 });
    expect(bradleyTerry).toBeCloseTo(Math.LN2, 12);
    // P(tie | d = 0, ν = 1) = 1/3.
    expect(davidson).toBeCloseTo(Math.log(3), 12);
    expect(davidson).not.toBeCloseTo(bradleyTerry, 3);
  });

  it('reduces to Bradley–Terry as ν → 0 for decisive outcomes', () => {
    for (const d of [-3, -0.5, 0, 0.7, 4]) {
      expect(loss(d, 1, true, -20)).toBeCloseTo(pairLoss(d, 1), 6);
      expect(loss(d, 0, true, -20)).toBeCloseTo(pairLoss(d, 0), 6);
    }
  });

  it('returns gradients that match finite differences', () => {
    const h = 1e-6;
    for (const [ties, y] of [
      [false, 1],
      [false, 0],
      [false, 0.5],
      [false, 0.3],
      [true, 1],
      [true, 0],
      [true, 0.5],
    ] as Array<[boolean, number]>) {
      for (const d of [-2.5, -0.1, 0.3, 3]) {
        const logNu = -0.7;
        pairLossGrad(d, y, ties, logNu, out);
        const [, gradD, gradNu] = out;
        const numericD = (loss(d + h, y, ties, logNu) - loss(d - h, y, ties, logNu)) / (2 * h);
        expect(gradD).toBeCloseTo(numericD, 6);
        if (ties) {
          const numericNu = (loss(d, y, ties, logNu + h) - loss(d, y, ties, logNu - h)) / (2 * h);
          expect(gradNu).toBeCloseTo(numericNu, 6);
        }
      }
    }
  });

  it('gives probabilities that sum to one, without overflow', () => {
    for (const d of [-1e4, -2, 0, 1.5, 1e4]) {
      const bt = pairProbabilities(d);
      const dv = pairProbabilities(d, { model: 'davidson', nu: 0.8 });
      expect(bt.a + bt.b + bt.tie).toBeCloseTo(1, 12);
      expect(dv.a + dv.b + dv.tie).toBeCloseTo(1, 12);
      expect(Number.isFinite(dv.a) && Number.isFinite(dv.tie)).toBe(true);
    }
    expect(pairProbabilities(0, { model: 'davidson', nu: 1 }).tie).toBeCloseTo(1 / 3, 12);
  });
});
