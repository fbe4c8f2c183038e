import { alwaysValidTest, twoSidedT } from '@flywheel/satisfaction';
import { baseLikeRate, calibrationWorlds, logitShiftFor, marginalRate, SIGNALS, USER_SIGMA, VIDEO_SIGMA, World } from './calibration-world';
import { simulateWorld, simulationWorlds } from './power-simulation';

/**
 * Why eval:calibration's power at +3 points of like rate is 0–3% next to a reference's 30%: checked offline, through
 * the api's own estimator (compareTotals), against the oracle (the true SD of the difference across replicates).
 */
describe('power at +3 points of like rate, against the oracle-sized fixed test (simulation)', () => {
  const world = (name: string, replicates: number): World => ({ ...simulationWorlds(replicates).find((w) => w.name === name)! });
  const power = simulateWorld(world('power-feed-m16', 300), 1101);

  it('the lift is what the eval claims: the like rate of the rows compare reads rises by 3 points', () => {
    expect(baseLikeRate()).toBeCloseTo(0.24, 2);
    const sigma = Math.hypot(VIDEO_SIGMA, USER_SIGMA);
    expect(marginalRate(SIGNALS[0].base + logitShiftFor(0.03), sigma) - baseLikeRate()).toBeCloseTo(0.03, 6);
    // Mean realized difference within 3 standard errors of 0.03 over the replicates.
    expect(Math.abs(power.meanDifference - 0.03)).toBeLessThan((3 * power.oracleSd) / Math.sqrt(power.replicates));
  });

  it('the reported cluster-robust SE is the true sampling SD within 15% (conservative by the cross-version covariance only)', () => {
    const ratio = power.oracleSd / power.meanSe;
    expect(ratio).toBeGreaterThan(0.85);
    expect(ratio).toBeLessThan(1.05);
    // The CGM computed on the difference itself (users' covariance across versions included) is the oracle's.
    expect(power.meanDifferenceSe / power.oracleSd).toBeGreaterThan(0.93);
    expect(power.meanDifferenceSe / power.oracleSd).toBeLessThan(1.07);
  });

  it('the oracle-sized fixed test itself has only about 26% power (the honest cost of clustering); ours reaches ≥ 75% of it', () => {
    expect(power.oracle).toBeGreaterThan(0.18);
    expect(power.oracle).toBeLessThan(0.36);
    // The naive SE is a third smaller: a naive test would claim far more power than the data hold.
    expect(power.meanNaiveSe / power.oracleSd).toBeLessThan(0.75);
    expect(power.serviceFixed).toBeGreaterThanOrEqual(0.75 * power.oracle);
    expect(power.serviceFixed).toBeLessThanOrEqual(power.oracle + 0.03);
  });

  it('the collapse to 0–5% is the always-valid default and Benjamini–Hochberg over 11 metrics, each costing what theory says', () => {
    // The mixture SPRT needs |z| ≈ 3.0 near its tuning size where the fixed test needs 1.96.
    const p = (z: number) => alwaysValidTest(z, 1, Infinity, 5000, 5000).pValue;
    expect(p(2.95)).toBeGreaterThan(0.05);
    expect(p(3.1)).toBeLessThan(0.05);
    // With the true difference ≈ 1.3 SE: P(Z > 3.0 − 1.3) ≈ 4%; BH with 10 null metrics needs p ≲ 0.05 / 11.
    const expected = (zCritical: number) => twoSidedT(zCritical - power.meanDifference / power.meanSe, Infinity) / 2;
    expect(power.serviceAlwaysValid).toBeLessThan(0.08);
    expect(Math.abs(power.serviceAlwaysValid - expected(3.03))).toBeLessThan(0.035);
    expect(power.serviceSignificantFixed).toBeLessThan(0.1);
    expect(Math.abs(power.serviceSignificantFixed - expected(2.84))).toBeLessThan(0.035);
  });

  it('A/A: the oracle-sized test rejects 5% and the service stays ≤ 5% within binomial noise in both designs', () => {
    const reps = 200;
    const bound = 0.05 + 3 * Math.sqrt((0.05 * 0.95) / reps);
    for (const name of ['feed-m16', 'split-m16']) {
      const aa = simulateWorld({ ...calibrationWorlds(reps, reps).find((w) => w.name === name)! }, 1102);
      expect(aa.oracle).toBeLessThanOrEqual(bound);
      expect(aa.oracle).toBeGreaterThan(0.02);
      expect(aa.serviceFixed).toBeLessThanOrEqual(bound);
      expect(aa.anyMetricFixed).toBeLessThanOrEqual(bound);
      expect(aa.oracleSd / aa.meanSe).toBeGreaterThan(0.85);
    }
  }, 300_000); // 400 simulated replicates: about 6 CPU-seconds, far more on a loaded machine
});
