import { DataSource } from 'typeorm';
import { DIMENSION_COUNTERS, DIMENSION_MOMENT_COLUMNS, type DimensionCounter } from '@flywheel/satisfaction';
import {
  type AggregateTables, type AggregatedVideo, AllTimeSumsCache, type CellSums, Granularity, MetricDimension, RollupFilter,
  type RollupTables, type VersionSums, type VideoAggregateRanking, type VideoRankingOptions, rankVideoAggregates, readVersionSums, rollupSource,
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

/** The rating dimensions' tables, read through the overall read path's code with every read scoped to one dimension. */
export const DIMENSION_TABLES: AggregateTables = {
  daily: 'dimension_rollups_daily', moments: 'dimension_cluster_moments', counters: DIMENSION_COUNTERS,
  momentNames: DIMENSION_MOMENT_COLUMNS.map((m) => m.name),
  videos: 'dimension_video_aggregates', videoN: 'rated', videoSum: 'rating_sum', videoSumSq: 'rating_sumsq',
};

const DIMENSION_ROLLUPS: RollupTables = {
  hourly: 'dimension_rollups', daily: 'dimension_rollups_daily', counters: DIMENSION_COUNTERS, scope: 'dimension = $2',
};

/** (Project, dimension) pairs whose all-time sums DimensionMetricsRepository keeps: 256 projects × 4 dimensions. */
const SUMS_CACHE_ENTRIES = 1024;

/**
 * Read side of the per-rating-dimension metrics (dimension_rollups, _daily, dimension_video_aggregates,
 * dimension_cluster_moments), beside MetricsRepository and shaped like it: one statement per answer, scoped by project
 * and dimension; the statistics are the caller's.
 */
export class DimensionMetricsRepository {
  private readonly sums: AllTimeSumsCache<DimensionTotals>;

  constructor(private readonly db: DataSource) {
    this.sums = new AllTimeSumsCache(db, DIMENSION_TABLES, SUMS_CACHE_ENTRIES);
  }

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

  /** The window's rows of one dimension ($2): the overall read's source over the dimension's tables. */
  private source(filter: RollupFilter, granularity: Granularity | null, params: unknown[]): string {
    return rollupSource(filter, granularity === 'hour', params, DIMENSION_ROLLUPS);
  }


  /** All-time sums of one dimension per (model, version) and cell, with the video moments per cell and user moments per version, read afresh. */
  async versionSums(projectId: string, dimension: string): Promise<DimensionVersionSums[]> {
    return readVersionSums<DimensionTotals>((sql, params) => this.db.query(sql, params), DIMENSION_TABLES, projectId, dimension, null);
  }

  /**
   * versionSums kept per (project, dimension) under the change marker of the dimension's dimension_cluster_moments
   * rows, as MetricsRepository.allVersionSums keeps the overall ones: the one statement that applies a batch's
   * per-dimension deltas updates, for every video whose sums change, its cell's moment row of that dimension (and a
   * cell's all-time delta is the sum of its videos'); a rebuild or purge replaces or removes the rows.
   */
  async allVersionSums(projectId: string, dimension: string): Promise<DimensionVersionSums[]> {
    return this.sums.get(projectId, dimension);
  }

  /**
   * Best and worst videos by one dimension's mean rating shrunk toward the pooled mean of the window's videos:
   * (Σ rating + prior · strength) / (rated + strength); videos whose generation was created in [from, to). The
   * overall ranking's code (rankVideoAggregates) on dimension_video_aggregates.
   */
  async rankVideos(projectId: string, dimension: string, options: VideoRankingOptions): Promise<VideoAggregateRanking> {
    return rankVideoAggregates((sql, params) => this.db.query(sql, params), DIMENSION_TABLES, projectId, dimension, options);
  }
}

function totalsOf(r: Record<string, unknown>): DimensionTotals {
  return Object.fromEntries(DIMENSION_COUNTERS.map((c) => [c, Number(r[c] ?? 0)])) as DimensionTotals;
}
