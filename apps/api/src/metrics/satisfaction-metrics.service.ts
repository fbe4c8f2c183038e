import { Injectable } from '@nestjs/common';
import {
  DimensionMetricsRepository, DimensionTotals, Granularity, MetricDimension, MetricsRepository, ROLLUP_COLUMNS, RollupFilter,
  RollupTotals, TrafficSplitRow, UNKNOWN_FILTER, VersionSums,
} from '@flywheel/database';
import {
  CellClusterSums, ClusterAdjustment, ClusteredEstimate, DIMENSION_PAIR, POLICY_V1, RatioPair, RollupCounter, VersionClusterSums,
  alwaysValidTest, benjaminiHochberg, clusterAdjustment, clusteredMean, clusteredRate, criticalValue,
  dimensionSatisfactionSums, fixedHorizonTest, ratioPair, relativeLift, sampleRatioMismatch, shrunkMean,
} from '@flywheel/satisfaction';
import { FlywheelError } from '@flywheel/errors';
import { DIMENSION_METRICS, METRICS, MeanMetric, MetricDefinition, RateMetric } from './metric-definitions';
import {
  CompareQueryDto, MetricsWindowDto, SatisfactionQueryDto, TrafficSplitBodyDto, TrafficSplitPairDto, VideosQueryDto, parseInstant,
  parseSplit,
} from './metrics-query.dto';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const DEFAULT_WINDOW_MS = 7 * DAY_MS;
const MAX_WINDOW_MS = 400 * DAY_MS;
const MAX_HOURLY_WINDOW_MS = 31 * DAY_MS;
export const FDR_Q = 0.05;
export const SEQUENTIAL_ALPHA = 0.05;
export const DEFAULT_SEQUENTIAL_TUNING = 5000;
export const SRM_THRESHOLD = 0.001;

export interface EstimateView {
  value: number | null;
  n: number;
  low: number | null;
  high: number | null;
  /** Cluster-robust standard error. */
  standardError?: number | null;
  /** Cluster-robust / naive variance (≥ 1). */
  designEffect?: number | null;
  /** Degrees of freedom of the t reference; null: normal. */
  df?: number | null;
}
export interface Window { from: Date; to: Date }

/** The design effect and degrees of freedom of one metric in one group; naive (1, normal) when absent. */
export type Adjuster = (metric: MetricDefinition<string>) => Pick<ClusterAdjustment, 'designEffect' | 'df'>;
/** Sums by counter name: the rollups' (RollupTotals) or a rating dimension's (dimensionTotals). */
export type Totals = Readonly<Record<string, number>>;
export const NAIVE: Adjuster = () => ({ designEffect: 1, df: Infinity });

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export const METHOD = {
  unit: 'video+user',
  variance: 'cgm-two-way',
  window: 'design-effect',
  confidence: 0.95,
  description: 'Intervals are two-way cluster-robust by video and by user (Cameron–Gelbach–Miller: V_video + V_user − '
    + 'V_(video,user), never below the row-level variance), with a t reference on min(videos, users) − 1 degrees of '
    + 'freedom. The clustering comes from all-time per-video and per-user sums of each model version: its design '
    + 'effect (clustered / naive variance) is applied to the naive variance of each bucket, group or window — exact '
    + 'when the window holds all of the version\'s data, conservative for a sub-window under stable clustering; users '
    + 'shared by several versions in one group are bounded conservatively.',
} as const;

function view(e: ClusteredEstimate, n: number): EstimateView {
  return {
    value: finite(e.estimate), n, low: finite(e.lower), high: finite(e.upper),
    standardError: finite(e.standardError), designEffect: finite(e.designEffect), df: finite(e.df),
  };
}

/** The cluster-robust estimate of one metric (null when its denominator is empty). */
function estimate(totals: Totals, metric: MetricDefinition<string>, adjust: Adjuster): ClusteredEstimate | null {
  if (metric.kind === 'rate') {
    const n = totals[metric.denominator];
    return n > 0 ? clusteredRate(totals[metric.successes], n, adjust(metric)) : null;
  }
  const n = totals[metric.n];
  return n > 0 ? clusteredMean(n, totals[metric.sum], totals[metric.sumSq], adjust(metric)) : null;
}

const denominatorOf = (totals: Totals, metric: MetricDefinition<string>) => totals[metric.kind === 'rate' ? metric.denominator : metric.n];

/** A rate with its cluster-robust 95% interval (Wilson on the effective sample size, t reference). */
export function rateView(totals: Totals, metric: RateMetric<string>, adjust: Adjuster = NAIVE): EstimateView {
  const e = estimate(totals, metric, adjust);
  return e ? view(e, totals[metric.denominator]) : { value: null, n: 0, low: null, high: null, standardError: null, designEffect: null, df: null };
}

/** A mean with its cluster-robust 95% interval from the rollup's sum and sum of squares. */
export function meanView(totals: Totals, metric: MeanMetric<string>, adjust: Adjuster = NAIVE): EstimateView {
  const e = estimate(totals, metric, adjust);
  return e ? view(e, totals[metric.n]) : { value: null, n: 0, low: null, high: null, standardError: null, designEffect: null, df: null };
}

export function metricSet(totals: Totals, adjust: Adjuster = NAIVE, metrics: readonly MetricDefinition<string>[] = METRICS): Record<string, EstimateView> {
  return Object.fromEntries(metrics.map((m) => [m.key, m.kind === 'rate' ? rateView(totals, m, adjust) : meanView(totals, m, adjust)]));
}

/**
 * The adjuster of a group made of these cells' rows (of these versions): each metric's design effect over their
 * all-time sums. `pair`: one ratio every metric is measured on (a rating dimension's mean rating, whose satisfaction
 * is an affine map of it); default: each metric's own pair of rollup counters.
 */
export function adjusterFor(versions: readonly VersionClusterSums[], cells: readonly CellClusterSums[], pair?: RatioPair<string>): Adjuster {
  const cache = new Map<string, ClusterAdjustment>();
  return (metric) => {
    let hit = cache.get(metric.key);
    if (!hit) {
      const own = () => (metric.kind === 'rate'
        ? ratioPair(metric.successes as RollupCounter, metric.denominator as RollupCounter)
        : ratioPair(metric.sum as RollupCounter, metric.n as RollupCounter));
      hit = clusterAdjustment(pair ?? own(), versions, cells);
      cache.set(metric.key, hit);
    }
    return hit;
  };
}

/**
 * Looks up the all-time sums of the versions and cells that rows of a group came from. Its adjusters are kept per set
 * of cells: the points of a series mostly share one (a version's cells, day after day), and an index lives as long as
 * the repository's cached sums it was built from.
 */
type IndexedVersion = VersionClusterSums & { model: string; modelVersion: string; cells: (CellClusterSums & { category: string; segment: string })[] };

class SumsIndex {
  private readonly versions = new Map<string, IndexedVersion>();
  private readonly cells = new Map<string, CellClusterSums>();
  private readonly adjusters = new Map<string, Adjuster>();

  /** `pair`: see adjusterFor (a rating dimension's sums are measured on its mean rating). */
  constructor(sums: IndexedVersion[], private readonly pair?: RatioPair<string>) {
    for (const v of sums) {
      this.versions.set(`${v.model}\u0000${v.modelVersion}`, v);
      for (const c of v.cells) this.cells.set(`${v.model}\u0000${v.modelVersion}\u0000${c.category}\u0000${c.segment}`, c);
    }
  }

  /** The adjuster of a set of cells given sorted (as the repository's points carry them). */
  sortedAdjuster(cellIds: readonly string[]): Adjuster {
    const key = cellIds.join('\u0001');
    let adjust = this.adjusters.get(key);
    if (!adjust) {
      if (this.adjusters.size >= MAX_CACHED_ADJUSTERS) this.adjusters.clear();
      this.adjusters.set(key, (adjust = this.adjuster(cellIds)));
    }
    return adjust;
  }

  /** `cellIds`: model\0version\0category\0segment of the group's rows. */
  adjuster(cellIds: Iterable<string>): Adjuster {
    const versions = new Map<string, IndexedVersion>();
    const cells: CellClusterSums[] = [];
    for (const id of cellIds) {
      const cell = this.cells.get(id);
      const versionId = id.split('\u0000').slice(0, 2).join('\u0000');
      const version = this.versions.get(versionId);
      if (!cell || !version) continue;
      cells.push(cell);
      versions.set(versionId, version);
    }
    return adjusterFor([...versions.values()], cells, this.pair);
  }
}

/** Adjusters one SumsIndex keeps (one per distinct set of cells asked for) before it starts again. */
const MAX_CACHED_ADJUSTERS = 1024;
/** The index of each cached all-time sums array (the repository returns the same array while nothing changed). */
const INDEXES = new WeakMap<VersionSums[], SumsIndex>();
function indexOf(sums: VersionSums[]): SumsIndex {
  let index = INDEXES.get(sums);
  if (!index) INDEXES.set(sums, (index = new SumsIndex(sums)));
  return index;
}

const cellId = (dims: Partial<Record<MetricDimension, string>>) => [dims.model, dims.modelVersion, dims.category, dims.segment].map((d) => d ?? '').join('\u0000');
const ALL_DIMENSIONS: MetricDimension[] = ['model', 'modelVersion', 'category', 'segment'];

export interface CompareOptions {
  baseline?: Adjuster;
  candidate?: Adjuster;
  fixedHorizon?: boolean;
  tuning?: number;
  /** The metrics compared (default: the overall METRICS; a rating dimension's: DIMENSION_METRICS). */
  metrics?: readonly MetricDefinition<string>[];
}

interface Test { low: number | null; high: number | null; pValue: number | null }
const NO_TEST: Test = { low: null, high: null, pValue: null };

/**
 * Candidate − baseline for every metric: the fixed-horizon and the always-valid test of the difference (cluster-robust
 * standard errors of the two arms combined as independent: conservative when users see both versions, as their
 * shared taste makes the arms positively correlated); the headline follows `fixedHorizon`; `significant` by
 * Benjamini–Hochberg across the metrics that have a headline p-value.
 */
export function compareTotals(baseline: Totals, candidate: Totals, options: CompareOptions = {}) {
  const adjustA = options.baseline ?? NAIVE;
  const adjustB = options.candidate ?? NAIVE;
  const tuning = options.tuning ?? DEFAULT_SEQUENTIAL_TUNING;
  const rows = (options.metrics ?? METRICS).map((metric) => {
    const a = estimate(baseline, metric, adjustA);
    const b = estimate(candidate, metric, adjustB);
    const usable = a && b && Number.isFinite(a.standardError) && Number.isFinite(b.standardError);
    if (!usable) return { metric, a, b, difference: null, se: null, lift: null, fixed: NO_TEST, sequential: NO_TEST };
    const difference = b.estimate - a.estimate;
    const se = Math.hypot(a.standardError, b.standardError);
    const df = Math.min(a.df, b.df);
    const fixed = fixedHorizonTest(difference, se, df);
    const n = denominatorOf(baseline, metric) + denominatorOf(candidate, metric);
    const sequential = alwaysValidTest(difference, se, df, n, tuning, SEQUENTIAL_ALPHA);
    const lift = relativeLift(a, b, criticalValue(df));
    const asTest = (t: { lower: number; upper: number; pValue: number }): Test => ({ low: finite(t.lower), high: finite(t.upper), pValue: finite(t.pValue) });
    return { metric, a, b, difference, se, lift, fixed: asTest(fixed), sequential: asTest(sequential) };
  });
  const headline = (r: (typeof rows)[number]) => (options.fixedHorizon ? r.fixed : r.sequential);
  const tested = rows.filter((r) => headline(r).pValue !== null);
  const discoveries = benjaminiHochberg(tested.map((r) => headline(r).pValue!), FDR_Q);
  const significant = new Set(tested.filter((_, i) => discoveries[i]).map((r) => r.metric.key));
  return {
    tests: tested.length,
    metrics: rows.map((r) => {
      const { metric } = r;
      const main = headline(r);
      return {
        metric: metric.key,
        definition: metric.description,
        baseline: metric.kind === 'rate' ? rateView(baseline, metric, adjustA) : meanView(baseline, metric, adjustA),
        candidate: metric.kind === 'rate' ? rateView(candidate, metric, adjustB) : meanView(candidate, metric, adjustB),
        difference: { value: r.difference, low: main.low, high: main.high, standardError: r.se === null ? null : finite(r.se) },
        lift: r.lift && Number.isFinite(r.lift.lift) ? { value: r.lift.lift, low: finite(r.lift.lower), high: finite(r.lift.upper) } : null,
        pValue: main.pValue,
        significant: significant.has(metric.key),
        alwaysValid: r.sequential,
        fixedHorizon: r.fixed,
      };
    }),
  };
}

/** One side of a comparison: `model:version`, or a bare version (that version in every model). */
export interface Arm { model: string | null; modelVersion: string }

export function parseArm(value: string): Arm {
  const colon = value.indexOf(':');
  return colon < 0 ? { model: null, modelVersion: value } : { model: value.slice(0, colon), modelVersion: value.slice(colon + 1) };
}

/** Both sides well-formed and not sharing rows: the rule for compare and for a declared split. */
function parseArms(baseline: string, candidate: string): [Arm, Arm] {
  const problem = (field: string, message: string) => new FlywheelError('VALIDATION_FAILED', message, { details: [{ field, problems: [message] }] });
  const arms: [Arm, Arm] = [parseArm(baseline), parseArm(candidate)];
  for (const [field, arm] of [['baseline', arms[0]], ['candidate', arms[1]]] as const) {
    if (arm.model === '' || arm.modelVersion === '') throw problem(field, `${field} must be model:version with both parts non-empty, or a bare version`);
  }
  const overlap = arms[0].modelVersion === arms[1].modelVersion
    && (arms[0].model === null || arms[1].model === null || arms[0].model === arms[1].model);
  if (overlap) throw problem('candidate', 'candidate must differ from baseline (the two sides would share rows)');
  return arms;
}

const splitView = (row: TrafficSplitRow) => ({
  baseline: row.baseline,
  candidate: row.candidate,
  expected: { baseline: row.baselineShare / (row.baselineShare + row.candidateShare), candidate: row.candidateShare / (row.baselineShare + row.candidateShare) },
  split: `${row.baselineShare}:${row.candidateShare}`,
  updatedAt: row.updatedAt.toISOString(),
});

const armMatches = (arm: Arm, model: string, modelVersion: string) => arm.modelVersion === modelVersion && (arm.model === null || arm.model === model);

/** Rules of the metrics API: windows, grouping, estimates and comparisons over the hourly rollups. */
@Injectable()
export class SatisfactionMetricsService {
  constructor(private readonly metrics: MetricsRepository, private readonly dimensionReads?: DimensionMetricsRepository) {}

  private get dimensionMetrics(): DimensionMetricsRepository {
    if (!this.dimensionReads) throw new Error('SatisfactionMetricsService was built without a DimensionMetricsRepository');
    return this.dimensionReads;
  }

  /** `ratingDimensions`: the project's declared rating dimensions, which `dimension` must name. */
  async satisfaction(projectId: string, query: SatisfactionQueryDto, ratingDimensions: readonly string[] = []) {
    const dimension = declaredDimension(query.dimension, ratingDimensions);
    const granularity: Granularity = query.granularity ?? 'day';
    const window = resolveWindow(query, granularity === 'hour' ? MAX_HOURLY_WINDOW_MS : MAX_WINDOW_MS);
    const requested = new Set(query.groupBy ?? []);
    // A version name belongs to a model: two models' "1.0" are different generators.
    if (requested.has('modelVersion')) requested.add('model');
    const groupBy = (['model', 'modelVersion', 'category', 'segment'] as MetricDimension[]).filter((d) => requested.has(d));
    const filters = pickFilters(query, ['model', 'modelVersion', 'category', 'segment']);
    if (dimension !== null) {
      // A rating dimension: its own rollups and cluster sums, the same points and intervals.
      // One row per point, summed in SQL with the cells it comes from (as the overall series).
      const [points, sums] = await Promise.all([
        this.dimensionMetrics.points(projectId, dimension, { ...window, ...filters }, granularity, groupBy),
        this.dimensionMetrics.allVersionSums(projectId, dimension),
      ]);
      const index = new SumsIndex(sums, DIMENSION_PAIR);
      return {
        ...windowView(window), granularity, groupBy, filters, dimension, method: METHOD,
        series: points.filter((p) => p.totals.rated > 0).map((p) => ({
          bucket: p.bucket.toISOString(),
          group: Object.fromEntries(groupBy.map((d) => [d, p.dims[d] || null])),
          n: p.totals.rated,
          metrics: metricSet(dimensionTotals(p.totals), index.sortedAdjuster(p.cells), DIMENSION_METRICS),
        })),
      };
    }
    // Each point carries the cells its rows come from (their clustering).
    const [points, sums] = await Promise.all([
      this.metrics.points(projectId, { ...window, ...filters }, granularity, groupBy),
      this.metrics.allVersionSums(projectId),
    ]);
    const index = indexOf(sums);
    return {
      ...windowView(window),
      granularity,
      groupBy,
      filters,
      dimension: null,
      method: METHOD,
      series: points.filter((p) => p.totals.viewers > 0).map((p) => ({
        bucket: p.bucket!.toISOString(),
        group: Object.fromEntries(groupBy.map((d) => [d, p.dims[d] || null])),
        n: p.totals.viewers,
        metrics: metricSet(p.totals, index.sortedAdjuster(p.cells)),
      })),
    };
  }

  async compare(projectId: string, query: CompareQueryDto, ratingDimensions: readonly string[] = []) {
    const dimension = declaredDimension(query.dimension, ratingDimensions);
    const [baselineArm, candidateArm] = parseArms(query.baseline, query.candidate);
    const window = resolveWindow(query, MAX_WINDOW_MS);
    const filters = pickFilters(query, ['model', 'category', 'segment']);
    const filter: RollupFilter = { ...window, ...filters, modelVersion: [baselineArm.modelVersion, candidateArm.modelVersion] };
    // The intended split: the query's, or else the one the project declared for this pair (either way round).
    const declared = query.expectedSplit === undefined ? await this.metrics.trafficSplitFor(projectId, query.baseline, query.candidate) : null;
    const expected = query.expectedSplit !== undefined ? parseSplit(query.expectedSplit)
      : declared ? [declared.baselineShare, declared.candidateShare] as [number, number] : null;
    // A rating dimension reads its own rollups and cluster sums; everything else (SRM, arms, tests) is the same.
    const [groups, sums, generated] = await Promise.all([
      dimension === null
        ? this.metrics.aggregate(projectId, filter, null, ALL_DIMENSIONS)
        : this.dimensionMetrics.aggregate(projectId, dimension, filter, null),
      dimension === null ? this.metrics.allVersionSums(projectId) : this.dimensionMetrics.allVersionSums(projectId, dimension),
      expected ? this.metrics.generationCounts(projectId, filter) : Promise.resolve(null),
    ]);
    const modelAllowed = (model: string) => !filters.model || filters.model.map((m) => (m === UNKNOWN_FILTER ? '' : m)).includes(model);
    const index = dimension === null ? indexOf(sums as VersionSums[]) : new SumsIndex(sums, DIMENSION_PAIR);
    const unit = dimension === null ? 'viewers' : 'rated';
    const side = (arm: Arm) => {
      const mine: { dims: Partial<Record<MetricDimension, string>>; totals: Totals }[] = groups
        .filter((g) => armMatches(arm, g.dims.model!, g.dims.modelVersion!) && modelAllowed(g.dims.model!));
      let videos = 0;
      for (const [id, n] of generated ?? []) {
        const [model, modelVersion] = id.split('\u0000');
        if (armMatches(arm, model, modelVersion) && modelAllowed(model)) videos += n;
      }
      const totals = addTotals(mine.map((g) => g.totals));
      return {
        totals: dimension === null ? totals : dimensionTotals(totals as DimensionTotals), n: totals[unit] ?? 0,
        adjust: index.adjuster(mine.filter((g) => g.totals[unit] > 0).map((g) => cellId(g.dims))), videos,
      };
    };
    const a = side(baselineArm);
    const b = side(candidateArm);
    const fixedHorizon = query.fixedHorizon === true;
    const tuning = query.sequentialTuning ?? DEFAULT_SEQUENTIAL_TUNING;
    const { tests, metrics } = compareTotals(a.totals, b.totals, {
      baseline: a.adjust, candidate: b.adjust, fixedHorizon, tuning, metrics: dimension === null ? METRICS : DIMENSION_METRICS,
    });
    let srm = null;
    if (expected) {
      const test = sampleRatioMismatch([a.videos, b.videos], expected, SRM_THRESHOLD);
      const shares = [expected[0] / (expected[0] + expected[1]), expected[1] / (expected[0] + expected[1])];
      srm = {
        unit: 'videos',
        source: declared ? 'declared' : 'query',
        expected: { baseline: shares[0], candidate: shares[1] },
        observed: { baseline: a.videos, candidate: b.videos },
        chiSquare: test.chiSquare,
        pValue: test.pValue,
        mismatch: test.mismatch,
        message: test.mismatch
          ? `SAMPLE RATIO MISMATCH: ${a.videos} : ${b.videos} generations against an intended ${expected[0]}:${expected[1]} `
            + `(chi-square p = ${test.pValue.toExponential(2)} < ${SRM_THRESHOLD}). The traffic split is broken: do not trust this comparison until it is explained.`
          : `${a.videos} : ${b.videos} generations is consistent with the intended ${expected[0]}:${expected[1]} (p = ${test.pValue.toFixed(3)}).`,
      };
    }
    return {
      ...windowView(window),
      filters,
      dimension,
      baseline: { model: baselineArm.model, modelVersion: baselineArm.modelVersion, n: a.n, videos: a.videos },
      candidate: { model: candidateArm.model, modelVersion: candidateArm.modelVersion, n: b.n, videos: b.videos },
      method: {
        ...METHOD,
        inference: fixedHorizon ? 'fixed-horizon' : 'always-valid',
        sequential: { kind: 'gaussian-mixture-sprt', tuning, alpha: SEQUENTIAL_ALPHA },
        crossVersionCovariance: 'ignored (conservative): a user who sees both versions makes the two arms positively '
          + 'correlated, which only lowers the true variance of the difference',
      },
      srm,
      multipleTesting: { method: 'benjamini-hochberg', q: FDR_Q, tests },
      metrics,
    };
  }

  /** The project's declared traffic splits. */
  async trafficSplits(projectId: string) {
    return { splits: (await this.metrics.trafficSplits(projectId)).map(splitView) };
  }

  /** Declares (or replaces) the intended split of a pair of sides: compare's SRM test uses it without expectedSplit. */
  async declareTrafficSplit(projectId: string, body: TrafficSplitBodyDto) {
    parseArms(body.baseline, body.candidate);
    const shares = parseSplit(body.split)!;
    return splitView(await this.metrics.declareTrafficSplit(projectId, body.baseline, body.candidate, shares));
  }

  async removeTrafficSplit(projectId: string, query: TrafficSplitPairDto) {
    parseArms(query.baseline, query.candidate);
    if (!(await this.metrics.removeTrafficSplit(projectId, query.baseline, query.candidate))) {
      throw new FlywheelError('NOT_FOUND', `no traffic split is declared for ${query.baseline} against ${query.candidate}`);
    }
    return { baseline: query.baseline, candidate: query.candidate, removed: true };
  }

  async videos(projectId: string, query: VideosQueryDto, ratingDimensions: readonly string[] = []) {
    const dimension = declaredDimension(query.dimension, ratingDimensions);
    const window = resolveWindow(query, MAX_WINDOW_MS);
    const { priorStrength } = POLICY_V1.shrinkage;
    const options = {
      ...window, modelVersion: query.modelVersion, model: query.model, category: query.category, segment: query.segment,
      limit: query.limit ?? 10, minViewers: query.minViewers ?? 1, priorStrength,
    };
    // Per rating dimension: ranked by its mean rating (1–5) over the viewers who rated it, shrunk the same way.
    const ranking = dimension === null
      ? await this.metrics.rankAggregatedVideos(projectId, options)
      : await this.dimensionMetrics.rankVideos(projectId, dimension, options);
    const view = (v: (typeof ranking.best)[number]) => {
      const mean = v.sum / v.n;
      const e = clusteredMean(v.n, v.sum, v.sumSq, { designEffect: 1, df: v.n - 1 });
      return {
        videoId: v.videoId, model: v.model, modelVersion: v.modelVersion, category: v.category || null, segment: v.segment || null,
        prompt: v.prompt, createdAt: v.createdAt.toISOString(), n: v.n, mean,
        shrunk: shrunkMean(v.sum, v.n, ranking.priorMean, priorStrength), low: finite(e.lower), high: finite(e.upper),
      };
    };
    return {
      ...windowView(window),
      source: dimension === null ? 'video_aggregates' : 'dimension_video_aggregates',
      windowApplies: 'generation createdAt',
      dimension,
      priorMean: ranking.priorMean,
      priorStrength,
      best: ranking.best.map(view),
      worst: ranking.worst.map(view),
    };
  }

  /** What the dashboard's filters can offer in the window. */
  async dimensions(projectId: string, query: MetricsWindowDto, ratingDimensions: readonly string[] = []) {
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
      ratingDimensions: [...ratingDimensions],
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

/**
 * A rating dimension's sums with its satisfaction's: (rating − 3) / 2 summed over rated rows (an affine map, so its
 * interval and design effect follow the mean rating's exactly).
 */
export function dimensionTotals(t: DimensionTotals): Totals {
  const { sum, sumSq } = dimensionSatisfactionSums(t.rated, t.rating_sum, t.rating_sumsq);
  return { ...t, sat_sum: sum, sat_sumsq: sumSq };
}

/** `dimension` checked against the project's declared rating dimensions: null when absent, a 400 naming it if undeclared. */
export function declaredDimension(dimension: string | undefined, declared: readonly string[]): string | null {
  if (dimension === undefined) return null;
  if (!declared.includes(dimension)) {
    const message = `dimension "${dimension}" is not a rating dimension of this project (declared: ${declared.join(', ')})`;
    throw new FlywheelError('VALIDATION_FAILED', message, { details: [{ field: 'dimension', problems: [message] }] });
  }
  return dimension;
}

function addTotals(list: Totals[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of list) for (const [c, v] of Object.entries(t)) out[c] = (out[c] ?? 0) + v;
  return out;
}

function sumTotals(list: RollupTotals[]): RollupTotals {
  const total = Object.fromEntries(ROLLUP_COLUMNS.map((c) => [c, 0])) as RollupTotals;
  for (const t of list) for (const c of ROLLUP_COLUMNS) total[c] += t[c];
  return total;
}
