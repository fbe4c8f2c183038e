import { ROLLUP_COLUMNS, RollupTotals } from '@flywheel/database';
import { benjaminiHochberg, wilsonInterval } from '@flywheel/satisfaction';
import { FlywheelError } from '@flywheel/errors';
import { parseInstant } from './metrics-query.dto';
import { compareTotals, metricSet, parseArm, resolveWindow } from './satisfaction-metrics.service';

function totals(values: Partial<RollupTotals>): RollupTotals {
  return { ...(Object.fromEntries(ROLLUP_COLUMNS.map((c) => [c, 0])) as RollupTotals), ...values };
}

describe('parseInstant', () => {
  it('reads dates as UTC midnight and timestamps with their zone', () => {
    expect(parseInstant('2026-11-01')).toBe(Date.UTC(2026, 10, 1));
    expect(parseInstant('2026-11-01T12:30:00+02:00')).toBe(Date.UTC(2026, 10, 1, 10, 30));
    expect(parseInstant('2026-11-01T12:30Z')).toBe(Date.UTC(2026, 10, 1, 12, 30));
  });

  it('refuses impossible days, times without a zone and other shapes', () => {
    for (const bad of ['2026-02-30', '2026-13-01', '2026-11-01T12:00:00', '2026-11-01T24:00Z', 'yesterday', '1730000000', '']) {
      expect(parseInstant(bad)).toBeNull();
    }
  });
});

describe('resolveWindow', () => {
  const now = Date.UTC(2026, 10, 23, 20, 58);

  it('defaults to the 7 days up to the end of the current hour', () => {
    expect(resolveWindow({}, 400 * 86_400_000, now)).toEqual({ from: new Date(Date.UTC(2026, 10, 16, 21)), to: new Date(Date.UTC(2026, 10, 23, 21)) });
  });

  it('rounds from down and to up to whole hours', () => {
    const w = resolveWindow({ from: '2026-11-01T10:15:00Z', to: '2026-11-02T10:15:00Z' }, 400 * 86_400_000, now);
    expect(w).toEqual({ from: new Date(Date.UTC(2026, 10, 1, 10)), to: new Date(Date.UTC(2026, 10, 2, 11)) });
  });

  it('names the field when the window is empty or too long', () => {
    const fail = (query: { from?: string; to?: string }, max: number) => {
      try {
        resolveWindow(query, max, now);
      } catch (error) {
        return { code: (error as FlywheelError).code, details: (error as FlywheelError).details };
      }
      return null;
    };
    expect(fail({ from: '2026-11-02', to: '2026-11-01' }, 400 * 86_400_000)).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'from' }] });
    expect(fail({ from: '2026-01-01', to: '2026-11-01' }, 31 * 86_400_000)).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'from' }] });
  });
});

describe('metricSet', () => {
  it('gives rates over viewers, completion over plays, and means from the sums', () => {
    const set = metricSet(totals({ viewers: 200, plays: 150, completions: 60, likes: 30, sat_sum: 40, sat_sumsq: 30, watch_n: 150, watch_sum: 90, watch_sumsq: 70 }));
    // Without cluster information: the naive interval (design effect 1, normal reference), i.e. Wilson's.
    expect(set.like).toMatchObject({ value: 0.15, n: 200, low: wilsonInterval(30, 200).lower, high: wilsonInterval(30, 200).upper, designEffect: 1, df: null });
    expect(set.completion).toMatchObject({ value: 0.4, n: 150 });
    expect(set.satisfaction.value).toBeCloseTo(0.2, 12);
    const se = Math.sqrt((30 - 40 * 40 / 200) / 199 / 200);
    expect(set.satisfaction.low).toBeCloseTo(0.2 - 1.959964 * se, 12);
    expect(set.watchRatio).toMatchObject({ value: 0.6, n: 150 });
  });

  it('has no value and no interval without a denominator', () => {
    const set = metricSet(totals({ viewers: 3, plays: 0 }));
    expect(set.completion).toMatchObject({ value: null, n: 0, low: null, high: null });
    expect(set.watchRatio).toMatchObject({ value: null, n: 0, low: null, high: null });
  });

  it('has no interval for a mean of one viewer', () => {
    expect(metricSet(totals({ viewers: 1, sat_sum: 0.5, sat_sumsq: 0.25 })).satisfaction).toMatchObject({ value: 0.5, n: 1, low: null, high: null });
  });

  it('widens by the design effect and the t reference it is given', () => {
    const t = totals({ viewers: 200, likes: 30, sat_sum: 40, sat_sumsq: 30 });
    const naive = metricSet(t).like;
    const clustered = metricSet(t, () => ({ designEffect: 4, df: 9 })).like;
    expect(clustered).toMatchObject({ value: 0.15, designEffect: 4, df: 9 });
    expect(clustered.high! - clustered.low!).toBeGreaterThan(2 * (naive.high! - naive.low!));
    expect(clustered.standardError).toBeCloseTo(2 * naive.standardError!, 12);
  });
});

describe('parseArm', () => {
  it('splits model:version at the first colon; a bare version has no model', () => {
    expect(parseArm('seedance:1.0')).toEqual({ model: 'seedance', modelVersion: '1.0' });
    expect(parseArm('veo:3:beta')).toEqual({ model: 'veo', modelVersion: '3:beta' });
    expect(parseArm('1.0')).toEqual({ model: null, modelVersion: '1.0' });
  });
});

describe('compareTotals', () => {
  const baseline = totals({ viewers: 1000, plays: 800, completions: 320, likes: 100, exports: 20, dislikes: 50, sat_sum: 100, sat_sumsq: 200, watch_n: 800, watch_sum: 480, watch_sumsq: 400 });
  const candidate = totals({ viewers: 1000, plays: 820, completions: 330, likes: 160, exports: 22, dislikes: 30, sat_sum: 200, sat_sumsq: 220, watch_n: 820, watch_sum: 500, watch_sumsq: 420 });

  it('gives candidate − baseline, the lift, and BH significance across the metrics', () => {
    const { tests, metrics } = compareTotals(baseline, candidate);
    expect(tests).toBe(11);
    const like = metrics.find((m) => m.metric === 'like')!;
    expect(like.difference.value).toBeCloseTo(0.06, 12);
    expect(like.lift!.value).toBeCloseTo(0.6, 12);
    expect(like.significant).toBe(true);
    expect(metrics.map((m) => m.significant)).toEqual(benjaminiHochberg(metrics.map((m) => m.pValue!), 0.05));
    expect(metrics.find((m) => m.metric === 'export')!.significant).toBe(false);
    // Always-valid by default: wider than the fixed-horizon interval, and its p-value larger.
    expect(like.alwaysValid).toEqual({ low: like.difference.low, high: like.difference.high, pValue: like.pValue });
    expect(like.alwaysValid.high! - like.alwaysValid.low!).toBeGreaterThan(like.fixedHorizon.high! - like.fixedHorizon.low!);
    expect(like.alwaysValid.pValue!).toBeGreaterThan(like.fixedHorizon.pValue!);
  });

  it('gives the classical test as the headline with fixedHorizon', () => {
    const { metrics } = compareTotals(baseline, candidate, { fixedHorizon: true });
    const like = metrics.find((m) => m.metric === 'like')!;
    expect(like.pValue).toBe(like.fixedHorizon.pValue);
    expect(like.difference.low).toBe(like.fixedHorizon.low);
  });

  it('leaves out a metric an arm has no data for, and has no lift from a zero baseline', () => {
    const { tests, metrics } = compareTotals(totals({ viewers: 10, likes: 0, sat_sum: -1, sat_sumsq: 1 }), totals({ viewers: 10, likes: 2, sat_sum: 1, sat_sumsq: 1 }));
    const completion = metrics.find((m) => m.metric === 'completion')!;
    expect(completion).toMatchObject({ difference: { value: null, low: null, high: null }, lift: null, pValue: null, significant: false });
    expect(tests).toBe(9); // completion and watch ratio have no plays
    expect(metrics.find((m) => m.metric === 'like')!.lift).toBeNull();
    expect(metrics.find((m) => m.metric === 'satisfaction')!.lift).toBeNull(); // a mean below 0 has no ratio
  });
});
