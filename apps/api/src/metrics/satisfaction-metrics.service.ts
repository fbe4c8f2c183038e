import { Injectable } from '@nestjs/common';
import { Granularity, MetricDimension, MetricsRepository, ROLLUP_COLUMNS, RollupFilter, RollupTotals } from '@flywheel/database';
import {
  Estimate, POLICY_V1, benjaminiHochberg, meanDifference, meanEstimate, proportionDifference, proportionEstimate,
  relativeLift, shrunkMean,
} from '@flywheel/satisfaction';
import { FlywheelError } from '@flywheel/errors';
import { METRICS, MeanMetric, MetricDefinition, RateMetric } from './metric-definitions';
import { CompareQueryDto, MetricsWindowDto, SatisfactionQueryDto, VideosQueryDto, parseInstant } from './metrics-query.dto';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const DEFAULT_WINDOW_MS = 7 * DAY_MS;
const MAX_WINDOW_MS = 400 * DAY_MS;
const MAX_HOURLY_WINDOW_MS = 31 * DAY_MS;
export const FDR_Q = 0.05;

export interface EstimateView { value: number | null; n: number; low: number | null; high: number | null }
export interface Window { from: Date; to: Date }

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** A rate with its Wilson 95% interval. */
export function rateView(totals: RollupTotals, metric: RateMetric): EstimateView {
  const n = totals[metric.denominator];
  if (!(n > 0)) return { value: null, n: 0, low: null, high: null };
  const e = proportionEstimate({ successes: totals[metric.successes], n });
  return { value: e.estimate, n, low: e.lower, high: e.upper };
}

/** A mean with its normal 95% interval from the rollup's sum and sum of squares. */
export function meanView(totals: RollupTotals, metric: MeanMetric): EstimateView {
  const n = totals[metric.n];
  if (!(n > 0)) return { value: null, n: 0, low: null, high: null };
  const e = meanEstimate({ n, sum: totals[metric.sum], sumSq: totals[metric.sumSq] });
  return { value: finite(e.estimate), n, low: finite(e.lower), high: finite(e.upper) };
}

export function metricSet(totals: RollupTotals): Record<string, EstimateView> {
  return Object.fromEntries(METRICS.map((m) => [m.key, m.kind === 'rate' ? rateView(totals, m) : meanView(totals, m)]));
}

/** Candidate − baseline for every metric; `significant` by Benjamini–Hochberg across the metrics that have a p-value. */
export function compareTotals(baseline: RollupTotals, candidate: RollupTotals) {
  const rows = METRICS.map((metric) => ({ metric, ...compareOne(metric, baseline, candidate) }));
  const tested = rows.filter((r) => r.pValue !== null);
  const discoveries = benjaminiHochberg(tested.map((r) => r.pValue!), FDR_Q);
  const significant = new Set(tested.filter((_, i) => discoveries[i]).map((r) => r.metric.key));
  return {
    tests: tested.length,
    metrics: rows.map(({ metric, difference, lift, pValue }) => ({
      metric: metric.key,
      definition: metric.description,
      baseline: metric.kind === 'rate' ? rateView(baseline, metric) : meanView(baseline, metric),
      candidate: metric.kind === 'rate' ? rateView(candidate, metric) : meanView(candidate, metric),
      difference,
      lift,
      pValue,
      significant: significant.has(metric.key),
    })),
  };
}

function compareOne(metric: MetricDefinition, a: RollupTotals, b: RollupTotals) {
  const none = { difference: { value: null, low: null, high: null }, lift: null, pValue: null };
  let comparison: { difference: number; lower: number; upper: number; pValue: number };
  let estimates: [Estimate, Estimate];
  if (metric.kind === 'rate') {
    const sa = { successes: a[metric.successes], n: a[metric.denominator] };
    const sb = { successes: b[metric.successes], n: b[metric.denominator] };
    if (!(sa.n > 0 && sb.n > 0)) return none;
    comparison = proportionDifference(sa, sb);
    estimates = [proportionEstimate(sa), proportionEstimate(sb)];
  } else {
    const sa = { n: a[metric.n], sum: a[metric.sum], sumSq: a[metric.sumSq] };
    const sb = { n: b[metric.n], sum: b[metric.sum], sumSq: b[metric.sumSq] };
    if (!(sa.n >= 2 && sb.n >= 2)) return none; // no variance estimate below 2
    comparison = meanDifference(sa, sb);
    estimates = [meanEstimate(sa), meanEstimate(sb)];
  }
  const lift = relativeLift(estimates[0], estimates[1]);
  return {
    difference: { value: comparison.difference, low: finite(comparison.lower), high: finite(comparison.upper) },
    lift: lift && Number.isFinite(lift.lift) ? { value: lift.lift, low: finite(lift.lower), high: finite(lift.upper) } : null,
    pValue: finite(comparison.pValue),
  };
}

/** Rules of the metrics API: windows, grouping, estimates and comparisons over the hourly rollups. */
@Injectable()
export class SatisfactionMetricsService {
  constructor(private readonly metrics: MetricsRepository) {}

  async satisfaction(projectId: string, query: SatisfactionQueryDto) {
    const granularity: Granularity = query.granularity ?? 'day';
    const window = resolveWindow(query, granularity === 'hour' ? MAX_HOURLY_WINDOW_MS : MAX_WINDOW_MS);
    const requested = new Set(query.groupBy ?? []);
    // A version name belongs to a model: two models' "1.0" are different generators.
    if (requested.has('modelVersion')) requested.add('model');
    const groupBy = (['model', 'modelVersion', 'category', 'segment'] as MetricDimension[]).filter((d) => requested.has(d));
    const filters = pickFilters(query, ['model', 'modelVersion', 'category', 'segment']);
    const groups = await this.metrics.aggregate(projectId, { ...window, ...filters }, granularity, groupBy);
    return {
      ...windowView(window),
      granularity,
      groupBy,
      filters,
      series: groups.filter((g) => g.totals.viewers > 0).map((g) => ({
        bucket: g.bucket!.toISOString(),
        group: Object.fromEntries(groupBy.map((d) => [d, g.dims[d] || null])),
        n: g.totals.viewers,
        metrics: metricSet(g.totals),
      })),
    };
  }

  async compare(projectId: string, query: CompareQueryDto) {
    if (query.baseline === query.candidate) {
      throw new FlywheelError('VALIDATION_FAILED', 'candidate must differ from baseline', { details: [{ field: 'candidate', problems: ['candidate must differ from baseline'] }] });
    }
    const window = resolveWindow(query, MAX_WINDOW_MS);
    const filters = pickFilters(query, ['model', 'category', 'segment']);
    const filter: RollupFilter = { ...window, ...filters, modelVersion: [query.baseline, query.candidate] };
    const groups = await this.metrics.aggregate(projectId, filter, null, ['modelVersion']);
    const totalsOf = (version: string) => sumTotals(groups.filter((g) => g.dims.modelVersion === version).map((g) => g.totals));
    const baseline = totalsOf(query.baseline);
    const candidate = totalsOf(query.candidate);
    const { tests, metrics } = compareTotals(baseline, candidate);
    return {
      ...windowView(window),
      filters,
      baseline: { modelVersion: query.baseline, n: baseline.viewers },
      candidate: { modelVersion: query.candidate, n: candidate.viewers },
      multipleTesting: { method: 'benjamini-hochberg', q: FDR_Q, tests },
      metrics,
    };
  }

  async videos(projectId: string, query: VideosQueryDto) {
    const window = resolveWindow(query, MAX_WINDOW_MS);
    const { priorStrength } = POLICY_V1.shrinkage;
    const ranking = await this.metrics.rankVideos(projectId, {
      ...window, modelVersion: query.modelVersion, model: query.model, limit: query.limit ?? 10,
      minViewers: query.minViewers ?? 1, priorStrength,
    });
    const view = (v: (typeof ranking.best)[number]) => ({
      videoId: v.videoId, model: v.model, modelVersion: v.modelVersion, category: v.category, segment: v.segment,
      prompt: v.prompt, n: v.n, mean: v.sum / v.n, shrunk: shrunkMean(v.sum, v.n, ranking.priorMean, priorStrength),
    });
    return {
      ...windowView(window),
      priorMean: ranking.priorMean,
      priorStrength,
      best: ranking.best.map(view),
      worst: ranking.worst.map(view),
    };
  }

  /** What the dashboard's filters can offer in the window. */
  async dimensions(projectId: string, query: MetricsWindowDto) {
    const window = resolveWindow(query, MAX_WINDOW_MS);
    const rows = await this.metrics.dimensions(projectId, window.from, window.to);
    const versions = new Map<string, { model: string | null; modelVersion: string | null; viewers: number }>();
    for (const r of rows) {
      const id = `${r.model}\0${r.modelVersion}`;
      const entry = versions.get(id) ?? { model: r.model || null, modelVersion: r.modelVersion || null, viewers: 0 };
      entry.viewers += Number(r.viewers);
      versions.set(id, entry);
    }
    const distinct = (pick: (r: (typeof rows)[number]) => string) => [...new Set(rows.map(pick).filter((v) => v !== ''))].sort();
    return {
      ...windowView(window),
      versions: [...versions.values()],
      categories: distinct((r) => r.category),
      segments: distinct((r) => r.segment),
    };
  }
}

/** [from, to) on whole hours, the unit of the rollups; defaults to the last 7 days up to the current hour's end. */
export function resolveWindow(query: MetricsWindowDto, maxMs: number, now = Date.now()): Window {
  const toMs = Math.ceil((query.to === undefined ? now : parseInstant(query.to)!) / HOUR_MS) * HOUR_MS;
  const fromMs = query.from === undefined ? toMs - DEFAULT_WINDOW_MS : Math.floor(parseInstant(query.from)! / HOUR_MS) * HOUR_MS;
  const problem = (field: string, message: string) => new FlywheelError('VALIDATION_FAILED', message, { details: [{ field, problems: [message] }] });
  if (fromMs >= toMs) throw problem('from', 'from must be before to (the window is [from, to), on whole hours)');
  if (toMs - fromMs > maxMs) {
    throw problem('from', `the window from … to may span at most ${maxMs / DAY_MS} days${maxMs === MAX_HOURLY_WINDOW_MS ? ' with granularity=hour' : ''}`);
  }
  return { from: new Date(fromMs), to: new Date(toMs) };
}

function windowView(window: Window) {
  return { from: window.from.toISOString(), to: window.to.toISOString() };
}

function pickFilters<K extends 'model' | 'modelVersion' | 'category' | 'segment'>(query: Partial<Record<K, string[]>>, keys: K[]) {
  const filters: Partial<Record<K, string[]>> = {};
  for (const key of keys) {
    const values = query[key];
    if (values?.length) filters[key] = [...new Set(values)];
  }
  return filters;
}

function sumTotals(list: RollupTotals[]): RollupTotals {
  const total = Object.fromEntries(ROLLUP_COLUMNS.map((c) => [c, 0])) as RollupTotals;
  for (const t of list) for (const c of ROLLUP_COLUMNS) total[c] += t[c];
  return total;
}
