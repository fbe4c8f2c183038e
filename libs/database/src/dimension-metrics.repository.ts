import { DataSource } from 'typeorm';
import { DIMENSION_COUNTERS, DIMENSION_MOMENT_COLUMNS, type DimensionCounter } from '@flywheel/satisfaction';
import {
  type AggregatedVideo, type CellSums, Granularity, METRIC_DIMENSIONS, MetricDimension, RollupFilter, UNKNOWN_FILTER, type VersionSums,
} from './metrics.repository';

export type DimensionTotals = Record<DimensionCounter, number>;

export interface DimensionRollupGroup {
  bucket: Date | null;
  dims: Partial<Record<MetricDimension, string>>;
  totals: DimensionTotals;
}

/** A rating dimension's all-time sums per cell and per version: the overall shapes with the dimension's totals. */
export type DimensionCellSums = CellSums<DimensionTotals>;
export type DimensionVersionSums = VersionSums<DimensionTotals>;
/** A video's rated rows for one dimension: n, Σ rating, Σ rating². */
export type DimensionRankedVideo = AggregatedVideo;

const COLUMN: Record<MetricDimension, string> = { model: 'model', modelVersion: 'model_version', category: 'category', segment: 'segment' };
const DAY_MS = 86_400_000;

/**
 * Read side of the per-rating-dimension metrics (dimension_rollups, _daily, dimension_video_aggregates,
 * dimension_cluster_moments), beside MetricsRepository and shaped like it: one statement per answer, scoped by project
 * and dimension; the statistics are the caller's.
 */
export class DimensionMetricsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Sums per time bucket (none when `granularity` is null) and per (model, version, category, segment) of one
   * dimension in [from, to): whole UTC days from the daily table, the ragged hours from the hourly one (all hourly with
   * granularity=hour).
   */
  async aggregate(projectId: string, dimension: string, filter: RollupFilter, granularity: Granularity | null): Promise<DimensionRollupGroup[]> {
    const params: unknown[] = [projectId, dimension];
    const source = this.source(filter, granularity, params);
    if (granularity) params.push(granularity);
    const bucket = granularity ? `date_trunc($${params.length}, hour, 'UTC')` : 'NULL::timestamptz';
    const rows: Record<string, unknown>[] = await this.db.query(
      `SELECT ${bucket} AS bucket, model, model_version, category, segment,
              ${DIMENSION_COUNTERS.map((c) => `sum(${c})::float8 AS ${c}`).join(', ')}
         FROM (${source}) AS r
        GROUP BY ${granularity ? '1, ' : ''}2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`,
      params,
    );
    return rows.map((r) => ({
      bucket: granularity ? new Date(r.bucket as string) : null,
      dims: { model: r.model as string, modelVersion: r.model_version as string, category: r.category as string, segment: r.segment as string },
      totals: totalsOf(r),
    }));
  }

  /**
   * One row per dashboard point (bucket × the requested groupBy), summed in SQL, with the cells (model, version,
   * category, segment; joined by U+0000, sorted) whose rows rated the dimension: what the point's clustering comes from.
   */
  async points(
    projectId: string, dimension: string, filter: RollupFilter, granularity: Granularity, groupBy: readonly MetricDimension[],
  ): Promise<{ bucket: Date; dims: Partial<Record<MetricDimension, string>>; totals: DimensionTotals; cells: string[] }[]> {
    const params: unknown[] = [projectId, dimension];
    const source = this.source(filter, granularity, params);
    params.push(granularity);
    const keys = [`date_trunc($${params.length}, hour, 'UTC')`, ...groupBy.map((d) => COLUMN[d])];
    const ordinals = keys.map((_, i) => i + 1).join(', ');
    const rows: Record<string, unknown>[] = await this.db.query(
      `SELECT ${keys[0]} AS bucket, ${groupBy.map((d) => `${COLUMN[d]} AS "${d}", `).join('')}
              ${DIMENSION_COUNTERS.map((c) => `sum(${c})::float8 AS ${c}`).join(', ')},
              array_agg(DISTINCT array_to_json(ARRAY[model, model_version, category, segment])::text) FILTER (WHERE rated > 0) AS cells
         FROM (${source}) AS r
        GROUP BY ${ordinals} ORDER BY ${ordinals}`,
      params,
    );
    return rows.map((r) => ({
      bucket: new Date(r.bucket as string),
      dims: Object.fromEntries(groupBy.map((d) => [d, r[d] as string])),
      totals: totalsOf(r),
      cells: ((r.cells as string[] | null) ?? []).map((c) => (JSON.parse(c) as string[]).join('\u0000')).sort(),
    }));
  }

  /** The window's rows of one dimension: whole UTC days from the daily table, the rest (or all, hourly) from the hourly one. */
  private source(filter: RollupFilter, granularity: Granularity | null, params: unknown[]): string {
    const where = conditions(filter, params).map((c) => ` AND ${c}`).join('');
    const at = (date: Date) => {
      params.push(date.toISOString());
      return `$${params.length}`;
    };
    const columns = `model, model_version, category, segment, ${DIMENSION_COUNTERS.join(', ')}`;
    const from = filter.from.getTime();
    const to = filter.to.getTime();
    const dayFrom = Math.ceil(from / DAY_MS) * DAY_MS;
    const dayTo = Math.floor(to / DAY_MS) * DAY_MS;
    if (granularity === 'hour' || dayFrom >= dayTo) {
      return `SELECT hour, ${columns} FROM dimension_rollups
                 WHERE project_id = $1 AND dimension = $2 AND hour >= ${at(filter.from)} AND hour < ${at(filter.to)}${where}`;
    }
    const [a, b, c, d] = [at(filter.from), at(new Date(dayFrom)), at(new Date(dayTo)), at(filter.to)];
    return `SELECT day AS hour, ${columns} FROM dimension_rollups_daily
                 WHERE project_id = $1 AND dimension = $2 AND day >= ${b} AND day < ${c}${where}
                UNION ALL
                SELECT hour, ${columns} FROM dimension_rollups
                 WHERE project_id = $1 AND dimension = $2 AND ((hour >= ${a} AND hour < ${b}) OR (hour >= ${c} AND hour < ${d}))${where}`;
  }

  /** All-time sums of one dimension per (model, version) and cell, with the video moments per cell and user moments per version. */
  async versionSums(projectId: string, dimension: string): Promise<DimensionVersionSums[]> {
    const [totals, moments] = await Promise.all([
      this.db.query(
        `SELECT model, model_version, category, segment, ${DIMENSION_COUNTERS.map((c) => `sum(${c})::float8 AS ${c}`).join(', ')}
           FROM dimension_rollups_daily WHERE project_id = $1 AND dimension = $2 GROUP BY 1, 2, 3, 4`,
        [projectId, dimension],
      ) as Promise<Record<string, unknown>[]>,
      this.db.query(
        `SELECT unit, model, model_version, category, segment, clusters, ${DIMENSION_MOMENT_COLUMNS.map((m) => m.name).join(', ')}
           FROM dimension_cluster_moments WHERE project_id = $1 AND dimension = $2`,
        [projectId, dimension],
      ) as Promise<Record<string, unknown>[]>,
    ]);
    const names = ['clusters', ...DIMENSION_MOMENT_COLUMNS.map((m) => m.name)];
    const momentsOf = (r: Record<string, unknown>) => Object.fromEntries(names.map((c) => [c, Number(r[c])]));
    const versionKey = (r: Record<string, unknown>) => `${r.model}\u0000${r.model_version}`;
    const cellKey = (r: Record<string, unknown>) => `${versionKey(r)}\u0000${r.category}\u0000${r.segment}`;
    const out = new Map<string, DimensionVersionSums>();
    const cells = new Map<string, DimensionCellSums>();
    for (const r of totals) {
      let entry = out.get(versionKey(r));
      if (!entry) {
        entry = { model: r.model as string, modelVersion: r.model_version as string, totals: totalsOf({}), videoMoments: null, userMoments: null, cells: [] };
        out.set(versionKey(r), entry);
      }
      const cell: DimensionCellSums = { category: r.category as string, segment: r.segment as string, totals: totalsOf(r), videoMoments: null };
      for (const c of DIMENSION_COUNTERS) entry.totals[c] += cell.totals[c];
      entry.cells.push(cell);
      cells.set(cellKey(r), cell);
    }
    for (const r of moments) {
      const entry = out.get(versionKey(r));
      if (!entry) continue;
      if (r.unit === 'user') {
        entry.userMoments = momentsOf(r);
        continue;
      }
      const cell = cells.get(cellKey(r));
      if (!cell) continue;
      cell.videoMoments = momentsOf(r);
      const sum = entry.videoMoments ?? Object.fromEntries(names.map((c) => [c, 0]));
      for (const c of names) sum[c] += cell.videoMoments[c];
      entry.videoMoments = sum;
    }
    return [...out.values()];
  }

  /**
   * Best and worst videos by one dimension's mean rating shrunk toward the pooled mean of the window's videos:
   * (Σ rating + prior · strength) / (rated + strength); videos whose generation was created in [from, to).
   */
  async rankVideos(
    projectId: string, dimension: string,
    options: { from: Date; to: Date; model?: string[]; modelVersion?: string[]; category?: string[]; segment?: string[]; limit: number; minViewers: number; priorStrength: number },
  ): Promise<{ priorMean: number; priorN: number; best: DimensionRankedVideo[]; worst: DimensionRankedVideo[] }> {
    const params: unknown[] = [projectId, dimension, options.from.toISOString(), options.to.toISOString()];
    const where = conditions(options, params, 'a.').map((c) => ` AND ${c}`).join('');
    params.push(options.priorStrength, options.minViewers, options.limit);
    const [strength, minViewers, limit] = [params.length - 2, params.length - 1, params.length].map((i) => `$${i}`);
    const rows: Record<string, unknown>[] = await this.db.query(
      `WITH v AS MATERIALIZED (
         SELECT a.video_id, a.model, a.model_version, a.category, a.segment, a.created_at, a.rated AS n,
                a.rating_sum AS sum, a.rating_sumsq AS sumsq
           FROM dimension_video_aggregates a
          WHERE a.project_id = $1 AND a.dimension = $2 AND a.created_at >= $3 AND a.created_at < $4 AND a.rated > 0${where}
       ), prior AS (
         SELECT coalesce(sum(sum) / nullif(sum(n), 0), 0)::float8 AS mean, coalesce(sum(n), 0)::float8 AS n FROM v
       ), ranked AS (
         (SELECT 'best' AS list, v.* FROM v, prior p WHERE v.n >= ${minViewers}
           ORDER BY (v.sum + p.mean * ${strength}) / (v.n + ${strength}) DESC, v.video_id LIMIT ${limit})
         UNION ALL
         (SELECT 'worst' AS list, v.* FROM v, prior p WHERE v.n >= ${minViewers}
           ORDER BY (v.sum + p.mean * ${strength}) / (v.n + ${strength}) ASC, v.video_id LIMIT ${limit})
       )
       SELECT p.mean AS prior_mean, p.n AS prior_n, r.*, g.prompt
         FROM prior p
         LEFT JOIN ranked r ON true
         LEFT JOIN generations g ON g.project_id = $1 AND g.video_id = r.video_id`,
      params,
    );
    const toVideo = (r: Record<string, unknown>): DimensionRankedVideo => ({
      videoId: r.video_id as string, model: r.model as string, modelVersion: r.model_version as string,
      category: r.category as string, segment: r.segment as string, prompt: (r.prompt as string) ?? '',
      createdAt: new Date(r.created_at as string), n: Number(r.n), sum: Number(r.sum), sumSq: Number(r.sumsq),
    });
    const priorMean = Number(rows[0]?.prior_mean ?? 0);
    const shrunk = (v: DimensionRankedVideo) => (v.sum + priorMean * options.priorStrength) / (v.n + options.priorStrength);
    const list = (name: string, sign: 1 | -1) => rows.filter((r) => r.list === name).map(toVideo)
      .sort((a, b) => sign * (shrunk(b) - shrunk(a)) || (a.videoId < b.videoId ? -1 : 1));
    return { priorMean, priorN: Number(rows[0]?.prior_n ?? 0), best: list('best', 1), worst: list('worst', -1) };
  }
}

function totalsOf(r: Record<string, unknown>): DimensionTotals {
  return Object.fromEntries(DIMENSION_COUNTERS.map((c) => [c, Number(r[c] ?? 0)])) as DimensionTotals;
}

/** SQL conditions of the filter lists (UNKNOWN_FILTER selects ''); appends their parameters. */
function conditions(filter: Partial<Pick<RollupFilter, MetricDimension>>, params: unknown[], alias = ''): string[] {
  const out: string[] = [];
  for (const dim of METRIC_DIMENSIONS) {
    const values = filter[dim];
    if (values && values.length) {
      params.push(values.map((v) => (v === UNKNOWN_FILTER ? '' : v)));
      out.push(`${alias}${COLUMN[dim]} = ANY($${params.length}::text[])`);
    }
  }
  return out;
}
