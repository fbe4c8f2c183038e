import { DataSource } from 'typeorm';
import { MOMENT_COLUMNS, ROLLUP_COUNTERS, type RollupCounter } from '@flywheel/satisfaction';

/**
 * The counters of `satisfaction_rollups` (and `_daily`), in table order: libs/satisfaction's ROLLUP_COUNTERS, the
 * one declaration (test/schema-facts.test.ts holds both tables to it).
 */
export const ROLLUP_COLUMNS = ROLLUP_COUNTERS;
export type RollupColumn = RollupCounter;
export type RollupTotals = Record<RollupColumn, number>;

export type MetricDimension = 'model' | 'modelVersion' | 'category' | 'segment';
export const METRIC_DIMENSIONS: readonly MetricDimension[] = ['model', 'modelVersion', 'category', 'segment'];
const DIMENSION_COLUMN: Record<MetricDimension, string> = {
  model: 'model', modelVersion: 'model_version', category: 'category', segment: 'segment',
};

export type Granularity = 'hour' | 'day';

/**
 * The filter value that selects the unknown: rows without a category / segment, or (for model and modelVersion)
 * rows whose generation has not arrived. Stored as '' in the rollups.
 */
export const UNKNOWN_FILTER = '(unknown)';

/**
 * All-time sums of one (model, model version, category, segment): rollup totals and the video cluster moments.
 * `T` is the totals' shape: the overall rollup counters, or one rating dimension's (DimensionTotals).
 */
export interface CellSums<T = RollupTotals> {
  category: string;
  segment: string;
  totals: T;
  /** `clusters` and MOMENT_COLUMNS by name; null when none is kept. */
  videoMoments: Record<string, number> | null;
}

/** All-time sums of one (model, model version): its cells' totals and video moments summed, its user moments, its cells. */
export interface VersionSums<T = RollupTotals> {
  model: string;
  modelVersion: string;
  totals: T;
  videoMoments: Record<string, number> | null;
  userMoments: Record<string, number> | null;
  cells: CellSums<T>[];
}

export interface AggregatedVideo {
  videoId: string;
  model: string;
  modelVersion: string;
  category: string;
  segment: string;
  prompt: string;
  createdAt: Date;
  n: number;
  sum: number;
  sumSq: number;
}

export interface VideoAggregateRanking {
  priorMean: number;
  priorN: number;
  best: AggregatedVideo[];
  worst: AggregatedVideo[];
}

/**
 * Where one kind of all-time sums and per-video aggregates is kept: the overall ones (OVERALL_TABLES) or the rating
 * dimensions' (DIMENSION_TABLES of dimension-metrics.repository, whose rows carry a `dimension` column that every read
 * is scoped to). The read path (all-time sums under a change marker, the video ranking) is the same code for both.
 */
export interface AggregateTables {
  /** Daily rollups: every row ever written, per day and cell. */
  daily: string;
  /** Cluster moments per unit (video per cell, user per version). */
  moments: string;
  counters: readonly string[];
  momentNames: readonly string[];
  /** The per-video aggregate and its columns of n, Σ, Σ² of the ranked value. */
  videos: string;
  videoN: string;
  videoSum: string;
  videoSumSq: string;
}

export const OVERALL_TABLES: AggregateTables = {
  daily: 'satisfaction_rollups_daily', moments: 'cluster_moments', counters: ROLLUP_COUNTERS, momentNames: MOMENT_COLUMNS.map((m) => m.name),
  videos: 'video_aggregates', videoN: 'viewers', videoSum: 'sat_sum', videoSumSq: 'sat_sumsq',
};

/** Options of a video ranking: the generation-time window and filters, list length, minimum n and prior strength. */
export interface VideoRankingOptions extends Omit<RollupFilter, 'versions'> {
  limit: number;
  minViewers: number;
  priorStrength: number;
}

/**
 * A window of rollup hours [from, to) and filters; an empty or absent list does not filter; UNKNOWN_FILTER in a list
 * selects ''. `versions` restricts to these (model, model version) pairs.
 */
export interface RollupFilter {
  from: Date;
  to: Date;
  model?: string[];
  modelVersion?: string[];
  category?: string[];
  segment?: string[];
  versions?: { model: string; modelVersion: string }[];
}

/**
 * Sums of the rollup counters as float8, each value cast before it is added: exact for the integer counters (whole
 * numbers below 2^53 add exactly in float8, as the cast of a numeric sum would give), read back as numbers rather than
 * numeric strings, and without numeric accumulators (which made the dashboard's aggregation spill to disk).
 */
const FLOAT_SUMS = ROLLUP_COLUMNS.map((c) => `sum(${c}::float8) AS ${c}`);

/** A (model, model version, category, segment) cell of the rollups: '\u0000'-joined, as the metrics service keys it. */
export type CellId = string;
export const cellIdOf = (model: string, modelVersion: string, category: string, segment: string): CellId =>
  `${model}\u0000${modelVersion}\u0000${category}\u0000${segment}`;

/** One answer point: a time bucket and the grouped dimensions, with the cells its rows came from. */
export interface RollupPoint extends RollupGroup {
  /** The cells that have viewers in this point, sorted: what its cluster-robust intervals are computed over. */
  cells: CellId[];
}

export interface RollupGroup {
  /** Start of the time bucket (UTC); null when the query was not bucketed. */
  bucket: Date | null;
  /** The grouped dimensions only; '' is "unknown" (events whose generation has not arrived, or no category). */
  dims: Partial<Record<MetricDimension, string>>;
  totals: RollupTotals;
}

export interface VideoSatisfactionRow {
  videoId: string;
  model: string;
  modelVersion: string;
  category: string | null;
  segment: string | null;
  prompt: string;
  n: number;
  sum: number;
}

export interface VideoRanking {
  /** Mean satisfaction of every scored (video, user) row of the project in the window: the shrinkage prior. */
  priorMean: number;
  priorN: number;
  best: VideoSatisfactionRow[];
  worst: VideoSatisfactionRow[];
}

/** A project's declared traffic split between two compare sides (shares are relative weights). */
export interface TrafficSplitRow {
  baseline: string;
  candidate: string;
  baselineShare: number;
  candidateShare: number;
  updatedAt: Date;
}

const SPLIT_COLUMNS = `baseline, candidate, baseline_share AS "baselineShare", candidate_share AS "candidateShare", updated_at AS "updatedAt"`;

/**
 * Read side of the satisfaction metrics. Dashboards read the daily and hourly rollups (one statement per answer; the
 * statistics are computed by the caller); per-video rankings read the per-(video, user) signal rows. Every query is
 * scoped by project.
 */
export class MetricsRepository {
  private readonly sums: AllTimeSumsCache<RollupTotals>;

  constructor(private readonly db: DataSource) {
    this.sums = new AllTimeSumsCache(db, OVERALL_TABLES, SUMS_CACHE_PROJECTS);
  }

  /**
   * Sums the rollup counters per time bucket (when `granularity` is given) and per grouped dimension, in one statement.
   * Buckets are UTC days or hours of the row's rollup hour (the hour of the first event of the (video, user) row).
   * Whole UTC days of the window are read from the daily rollups, the ragged hours at either end from the hourly
   * ones: the same sums, from ~24× fewer rows.
   */
  async aggregate(projectId: string, filter: RollupFilter, granularity: Granularity | null, groupBy: readonly MetricDimension[]): Promise<RollupGroup[]> {
    const params: unknown[] = [projectId];
    const source = rollupSource(filter, granularity === 'hour', params);
    const keys: string[] = [];
    if (granularity) {
      params.push(granularity);
      keys.push(`date_trunc($${params.length}, hour, 'UTC')`);
    }
    keys.push(...groupBy.map((d) => DIMENSION_COLUMN[d]));
    const select = [
      ...(granularity ? [`${keys[0]} AS bucket`] : []),
      ...groupBy.map((d) => `${DIMENSION_COLUMN[d]} AS "${d}"`),
      ...FLOAT_SUMS,
    ];
    const ordinals = keys.map((_, i) => i + 1).join(', ');
    const rows: Record<string, unknown>[] = await this.db.query(
      `SELECT ${select.join(', ')}
         FROM (${source}) AS r
        ${keys.length ? `GROUP BY ${ordinals} ORDER BY ${ordinals}` : ''}`,
      params,
    );
    return rows.map((row) => ({
      bucket: granularity ? new Date(row.bucket as string) : null,
      dims: Object.fromEntries(groupBy.map((d) => [d, row[d] as string])),
      totals: Object.fromEntries(ROLLUP_COLUMNS.map((c) => [c, Number(row[c] ?? 0)])) as RollupTotals,
    }));
  }

  /**
   * The answer points of a dashboard query in one statement: the rollup counters summed per time bucket and grouped
   * dimension — as `aggregate` — and, per point, the cells (model, model version, category, segment) that have
   * viewers in it, which its cluster-robust intervals need. The source holds one row per (bucket, cell): daily rows as
   * they are, hourly rows as they are for hour buckets, and the ragged hours at either end of a window of days summed
   * per cell into the one day each end lies in. The points come back one row each (24× fewer than one per (point,
   * cell) for a version series over 6 categories × 4 segments), with their cells as arrays of the dimensions that are
   * not grouped (in step: aggregates of one group advance together over its rows), in the order of their first
   * (bucket, model, model version, category, segment) row, as the per-cell grouping gave them.
   */
  async points(projectId: string, filter: RollupFilter, granularity: Granularity, groupBy: readonly MetricDimension[]): Promise<RollupPoint[]> {
    const params: unknown[] = [projectId];
    const source = cellBucketSource(filter, granularity, params);
    const grouped = groupBy.map((d) => DIMENSION_COLUMN[d]);
    const free = METRIC_DIMENSIONS.filter((d) => !groupBy.includes(d));
    const select = [
      'bucket',
      ...groupBy.map((d) => `${DIMENSION_COLUMN[d]} AS "${d}"`),
      ...ROLLUP_COLUMNS.map((c) => `sum(${c}) AS ${c}`),
      // json, not text[]: JSON.parse reads it several times faster than the driver's array parser.
      ...free.map((d) => `json_agg(${DIMENSION_COLUMN[d]}) FILTER (WHERE viewers > 0) AS "cell_${d}"`),
    ];
    const ordinals = ['1', ...grouped.map((_, i) => String(i + 2))].join(', ');
    // Grouped dimensions that lead the four in order sort as the per-cell rows did; others by each point's first row.
    const prefix = groupBy.every((d, i) => METRIC_DIMENSIONS[i] === d);
    const order = prefix ? ordinals : '1, min(ARRAY[model, model_version, category, segment])';
    const rows: Record<string, unknown>[] = await this.db.query(
      `SELECT ${select.join(', ')}
         FROM (${source}) AS r
        GROUP BY ${ordinals} ORDER BY ${order}`,
      params,
    );
    // Where each of the four dimensions of a cell comes from: the point's own value, or its cell arrays.
    const freeIndex = METRIC_DIMENSIONS.map((d) => free.indexOf(d));
    return rows.map((row) => {
      const dims = Object.fromEntries(groupBy.map((d) => [d, row[d] as string])) as Partial<Record<MetricDimension, string>>;
      const lists = free.map((d) => (row[`cell_${d}`] as string[] | null) ?? []);
      const cells: CellId[] = [];
      const count = free.length ? lists[0].length : Number(row.viewers) > 0 ? 1 : 0;
      const parts = METRIC_DIMENSIONS.map((d) => dims[d] ?? '');
      for (let i = 0; i < count; i++) {
        for (let j = 0; j < 4; j++) if (freeIndex[j] >= 0) parts[j] = lists[freeIndex[j]][i];
        cells.push(cellIdOf(parts[0], parts[1], parts[2], parts[3]));
      }
      return {
        bucket: new Date(row.bucket as string),
        dims,
        totals: Object.fromEntries(ROLLUP_COLUMNS.map((c) => [c, Number(row[c] ?? 0)])) as RollupTotals,
        cells: cells.sort(),
      };
    });
  }

  /** The models, model versions, categories and segments that have rollups in the window ('' = unknown). */
  async dimensions(projectId: string, from: Date, to: Date): Promise<{ model: string; modelVersion: string; category: string; segment: string; viewers: number }[]> {
    const params: unknown[] = [projectId];
    const source = rollupSource({ from, to }, false, params);
    return this.db.query(
      `SELECT model, model_version AS "modelVersion", category, segment, sum(viewers)::float8 AS viewers
         FROM (${source}) AS r
        GROUP BY 1, 2, 3, 4
       HAVING sum(viewers) > 0
        ORDER BY 1, 2, 3, 4`,
      params,
    );
  }

  /**
   * Best and worst videos by satisfaction shrunk toward the project's mean in the window:
   * (sum + priorMean · priorStrength) / (n + priorStrength). Rows are the scored (video, user) signals whose rollup
   * hour is in [from, to); only videos with a registered generation (and at least `minViewers` rows) are ranked.
   */
  async rankVideos(
    projectId: string,
    options: { from: Date; to: Date; modelVersion?: string[]; model?: string[]; limit: number; minViewers: number; priorStrength: number },
  ): Promise<VideoRanking> {
    const rows: (Record<string, unknown>)[] = await this.db.query(
      `WITH per_video AS (
         SELECT video_id, count(*)::int AS n, sum(satisfaction::float8) AS sum
           FROM video_user_signals
          WHERE project_id = $1 AND rollup_hour >= $2 AND rollup_hour < $3 AND satisfaction IS NOT NULL
          GROUP BY video_id
       ), prior AS (
         SELECT coalesce(sum(sum) / nullif(sum(n), 0), 0)::float8 AS mean, coalesce(sum(n), 0)::float8 AS n FROM per_video
       ), candidates AS (
         SELECT v.video_id, v.n, v.sum, g.model, g.model_version, g.category, g.segment, g.prompt,
                (v.sum + p.mean * $4) / (v.n + $4) AS shrunk
           FROM per_video v
           JOIN generations g ON g.project_id = $1 AND g.video_id = v.video_id
          CROSS JOIN prior p
          WHERE v.n >= $5
            AND ($6::text[] IS NULL OR g.model_version = ANY($6::text[]))
            AND ($7::text[] IS NULL OR g.model = ANY($7::text[]))
       ), ranked AS (
         SELECT c.*, row_number() OVER (ORDER BY shrunk DESC, video_id) AS best_rank,
                row_number() OVER (ORDER BY shrunk ASC, video_id) AS worst_rank
           FROM candidates c
       )
       SELECT p.mean AS prior_mean, p.n AS prior_n, r.*
         FROM prior p
         LEFT JOIN ranked r ON r.best_rank <= $8 OR r.worst_rank <= $8`,
      [
        projectId, options.from.toISOString(), options.to.toISOString(), options.priorStrength, options.minViewers,
        options.modelVersion?.length ? options.modelVersion : null, options.model?.length ? options.model : null, options.limit,
      ],
    );
    const ranked = rows.filter((r) => r.video_id !== null);
    const toRow = (r: Record<string, unknown>): VideoSatisfactionRow => ({
      videoId: r.video_id as string, model: r.model as string, modelVersion: r.model_version as string,
      category: r.category as string | null, segment: r.segment as string | null, prompt: r.prompt as string,
      n: Number(r.n), sum: Number(r.sum),
    });
    const by = (key: string) => ranked.filter((r) => Number(r[key]) <= options.limit).sort((a, b) => Number(a[key]) - Number(b[key])).map(toRow);
    return {
      priorMean: Number(rows[0]?.prior_mean ?? 0),
      priorN: Number(rows[0]?.prior_n ?? 0),
      best: by('best_rank'),
      worst: by('worst_rank'),
    };
  }

  /**
   * All-time sums per (model, model version) and per cell (category, segment) of the versions matching `versions`
   * (all when null): the rollup totals (from the daily rollups, which hold every row), the video moments per cell and
   * the user moments per version.
   */
  async versionSums(projectId: string, versions: { model: string; modelVersion: string }[] | null): Promise<VersionSums[]> {
    return readVersionSums<RollupTotals>((sql, params) => this.db.query(sql, params), OVERALL_TABLES, projectId, null, versions);
  }

  /**
   * versionSums of every version, kept per project under the project's change marker: the transaction ids that
   * last wrote its cluster_moments rows. Every write that changes an all-time sum changes one of those rows in the
   * same transaction (the rollups, video and user aggregates and moments are applied together from one set of
   * contributions, and a cell's all-time rollup delta is the sum of its videos' deltas, each of which updates the
   * cell's video-moment row); a rebuild or purge replaces or removes them. Writes that leave the all-time sums alone
   * (a row moving to an earlier hour) may keep the marker. A hit costs one read of the project's moment rows' xmin
   * (one per cell and version) instead of summing every daily rollup row ever written; a miss reads the marker and
   * the sums in one snapshot. (AllTimeSumsCache; the rating dimensions' sums are kept the same way.)
   */
  async allVersionSums(projectId: string): Promise<VersionSums[]> {
    return this.sums.get(projectId, null);
  }

  /** Generations created in [from, to) per (model, model version) among `versions`, with the category/segment filters. */


  async generationCounts(projectId: string, filter: RollupFilter): Promise<Map<string, number>> {
    const params: unknown[] = [projectId, filter.from.toISOString(), filter.to.toISOString()];
    const conditions = dimensionConditions({ ...filter, category: undefined, segment: undefined }, params, 'g.');
    for (const dim of ['category', 'segment'] as const) {
      const values = filter[dim];
      if (values && values.length) {
        params.push(values.map((v) => (v === UNKNOWN_FILTER ? '' : v)));
        conditions.push(`coalesce(g.${dim}, '') = ANY($${params.length}::text[])`);
      }
    }
    const rows: { model: string; model_version: string; n: number }[] = await this.db.query(
      `SELECT g.model, g.model_version, count(*)::int AS n FROM generations g
        WHERE g.project_id = $1 AND g.created_at >= $2 AND g.created_at < $3${conditions.map((c) => ` AND ${c}`).join('')}
        GROUP BY 1, 2`,
      params,
    );
    return new Map(rows.map((r) => [`${r.model}\u0000${r.model_version}`, Number(r.n)]));
  }

  /** The project's declared traffic splits, by baseline and candidate. */
  async trafficSplits(projectId: string): Promise<TrafficSplitRow[]> {
    return this.db.query(`SELECT ${SPLIT_COLUMNS} FROM traffic_splits WHERE project_id = $1 ORDER BY baseline, candidate`, [projectId]);
  }

  /**
   * The split declared for this pair of sides: as declared, or declared the other way round (shares swapped so that
   * the first is the baseline's); null when there is none.
   */
  async trafficSplitFor(projectId: string, baseline: string, candidate: string): Promise<TrafficSplitRow | null> {
    const rows: TrafficSplitRow[] = await this.db.query(
      `SELECT ${SPLIT_COLUMNS} FROM traffic_splits
        WHERE project_id = $1 AND ((baseline = $2 AND candidate = $3) OR (baseline = $3 AND candidate = $2))`,
      [projectId, baseline, candidate],
    );
    const same = rows.find((r) => r.baseline === baseline);
    if (same) return same;
    const other = rows[0];
    return other ? { baseline, candidate, baselineShare: other.candidateShare, candidateShare: other.baselineShare, updatedAt: other.updatedAt } : null;
  }

  /** Declares (or replaces) the split of a pair; a declaration of the reversed pair is replaced by it. */
  async declareTrafficSplit(projectId: string, baseline: string, candidate: string, shares: [number, number]): Promise<TrafficSplitRow> {
    return this.db.transaction(async (manager) => {
      await manager.query(`DELETE FROM traffic_splits WHERE project_id = $1 AND baseline = $3 AND candidate = $2`, [projectId, baseline, candidate]);
      const [row] = await manager.query(
        `INSERT INTO traffic_splits (project_id, baseline, candidate, baseline_share, candidate_share) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (project_id, baseline, candidate)
           DO UPDATE SET baseline_share = EXCLUDED.baseline_share, candidate_share = EXCLUDED.candidate_share, updated_at = now()
         RETURNING ${SPLIT_COLUMNS}`,
        [projectId, baseline, candidate, shares[0], shares[1]],
      );
      return row;
    });
  }

  /** Removes the declaration of a pair (either way round); false when there was none. */
  async removeTrafficSplit(projectId: string, baseline: string, candidate: string): Promise<boolean> {
    const rows = await this.db.query(
      `WITH gone AS (DELETE FROM traffic_splits WHERE project_id = $1 AND ((baseline = $2 AND candidate = $3) OR (baseline = $3 AND candidate = $2)) RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [projectId, baseline, candidate],
    );
    return rows[0].n > 0;
  }

  /**
   * Best and worst videos from the per-video aggregate (all-time sums per video): the videos whose generation was
   * created in [from, to), with the filters, ranked by (sum + priorMean · priorStrength) / (n + priorStrength) where
   * priorMean is their pooled mean. One pass over the window's video rows; the listed ones' other columns and prompts
   * are read for them only.
   */
  async rankAggregatedVideos(projectId: string, options: VideoRankingOptions): Promise<VideoAggregateRanking> {
    return rankVideoAggregates((sql, params) => this.db.query(sql, params), OVERALL_TABLES, projectId, null, options);
  }
}

const DAY_MS = 86_400_000;

export type Query = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

/** Projects whose all-time sums MetricsRepository keeps (least recently used dropped first). */
const SUMS_CACHE_PROJECTS = 256;

/**
 * Scope of a read of `tables`: the project ($1) and, for a rating dimension's tables, the dimension ($2). Appends the
 * parameters; returns the SQL condition.
 */
function scopeOf(projectId: string, dimension: string | null, params: unknown[], alias = ''): string {
  params.push(projectId);
  const project = `${alias}project_id = $${params.length}`;
  if (dimension === null) return project;
  params.push(dimension);
  return `${project} AND ${alias}dimension = $${params.length}`;
}

/** The change marker of a project's (or a project's dimension's) all-time sums (see MetricsRepository.allVersionSums). */
async function sumsMarker(query: Query, tables: AggregateTables, projectId: string, dimension: string | null): Promise<string> {
  const params: unknown[] = [];
  const scope = scopeOf(projectId, dimension, params);
  const [row] = await query(
    `SELECT count(*)::int AS n, md5(coalesce(string_agg(xmin::text, ',' ORDER BY unit, model, model_version, category, segment), '')) AS hash
       FROM ${tables.moments} WHERE ${scope}`,
    params,
  );
  return `${row.n}:${row.hash}`;
}

/**
 * All-time sums (VersionSums) of `tables`, kept per project (and dimension) under its change marker, as
 * MetricsRepository.allVersionSums describes; at most `size` entries, the least recently used dropped first.
 */
export class AllTimeSumsCache<T extends Record<string, number>> {
  private readonly entries = new Map<string, { marker: string; sums: VersionSums<T>[] }>();

  constructor(private readonly db: DataSource, private readonly tables: AggregateTables, private readonly size: number) {}

  async get(projectId: string, dimension: string | null): Promise<VersionSums<T>[]> {
    const key = dimension === null ? projectId : `${projectId}\u0000${dimension}`;
    const marker = await sumsMarker((sql, params) => this.db.query(sql, params), this.tables, projectId, dimension);
    const hit = this.entries.get(key);
    if (hit && hit.marker === marker) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.sums;
    }
    const fresh = await this.db.transaction('REPEATABLE READ', async (em) => {
      const query = (sql: string, params: unknown[]) => em.query(sql, params);
      return {
        marker: await sumsMarker(query, this.tables, projectId, dimension),
        sums: await readVersionSums<T>(query, this.tables, projectId, dimension, null),
      };
    });
    this.entries.delete(key);
    this.entries.set(key, fresh);
    while (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
    return fresh.sums;
  }
}

/**
 * All-time sums of `tables` per (model, model version) and cell of the project (and dimension) for the versions
 * matching `versions` (all when null): the totals from the daily rollups, the video moments per cell and the user
 * moments per version.
 */
export async function readVersionSums<T extends Record<string, number>>(
  query: Query, tables: AggregateTables, projectId: string, dimension: string | null, versions: { model: string; modelVersion: string }[] | null,
): Promise<VersionSums<T>[]> {
  const params: unknown[] = [];
  const scope = scopeOf(projectId, dimension, params);
  const where = versions ? dimensionConditions({ versions }, params).map((c) => ` AND ${c}`).join('') : '';
  const totals = await query(
    `SELECT model, model_version, category, segment, ${tables.counters.map((c) => `sum(${c}::float8) AS ${c}`).join(', ')}
       FROM ${tables.daily} WHERE ${scope}${where} GROUP BY 1, 2, 3, 4`,
    params,
  );
  const moments = await query(
    `SELECT unit, model, model_version, category, segment, clusters, ${tables.momentNames.join(', ')}
       FROM ${tables.moments} WHERE ${scope}${where}`,
    params,
  );
  const versionKey = (r: Record<string, unknown>) => `${r.model}\u0000${r.model_version}`;
  const cellKey = (r: Record<string, unknown>) => `${versionKey(r)}\u0000${r.category}\u0000${r.segment}`;
  const names = ['clusters', ...tables.momentNames];
  const momentsOf = (r: Record<string, unknown>) => Object.fromEntries(names.map((c) => [c, Number(r[c])]));
  const totalsOf = (r: Record<string, unknown>) => Object.fromEntries(tables.counters.map((c) => [c, Number(r[c] ?? 0)])) as T;
  const addInto = (target: Record<string, number> | null, add: Record<string, number>) => {
    const out = target ?? Object.fromEntries(names.map((c) => [c, 0]));
    for (const c of names) out[c] += add[c];
    return out;
  };
  const out = new Map<string, VersionSums<T>>();
  const cells = new Map<string, CellSums<T>>();
  for (const r of totals) {
    let entry = out.get(versionKey(r));
    if (!entry) {
      entry = { model: r.model as string, modelVersion: r.model_version as string, totals: totalsOf({}), videoMoments: null, userMoments: null, cells: [] };
      out.set(versionKey(r), entry);
    }
    const cell: CellSums<T> = { category: r.category as string, segment: r.segment as string, totals: totalsOf(r), videoMoments: null };
    for (const c of tables.counters) (entry.totals as Record<string, number>)[c] += cell.totals[c];
    entry.cells.push(cell);
    cells.set(cellKey(r), cell);
  }
  for (const r of moments) {
    const entry = out.get(versionKey(r));
    if (!entry) continue; // moments without rollups: every contribution moved away
    if (r.unit === 'user') {
      entry.userMoments = momentsOf(r);
      continue;
    }
    const cell = cells.get(cellKey(r));
    if (!cell) continue;
    cell.videoMoments = momentsOf(r);
    entry.videoMoments = addInto(entry.videoMoments, cell.videoMoments);
  }
  return [...out.values()];
}

/**
 * Best and worst videos of `tables`' per-video aggregate (all-time sums per video, of the project or of one rating
 * dimension): the videos whose generation was created in [from, to), with the filters, ranked by
 * (sum + priorMean · priorStrength) / (n + priorStrength) where priorMean is their pooled mean. One pass over the
 * window's video rows; the listed ones' other columns and prompts are read for them only.
 */
export async function rankVideoAggregates(
  query: Query, tables: AggregateTables, projectId: string, dimension: string | null, options: VideoRankingOptions,
): Promise<VideoAggregateRanking> {
  const params: unknown[] = [];
  const scope = scopeOf(projectId, dimension, params, 'a.');
  params.push(options.from.toISOString(), options.to.toISOString());
  const [from, to] = [`$${params.length - 1}`, `$${params.length}`];
  const project = `$1`;
  const conditions = dimensionConditions(options, params, 'a.').map((c) => ` AND ${c}`).join('');
  params.push(options.priorStrength, options.minViewers, options.limit);
  const [strength, minViewers, limit] = [params.length - 2, params.length - 1, params.length].map((i) => `$${i}`);
  const { videos, videoN: n, videoSum: sum, videoSumSq: sumSq } = tables;
  // The window's rows are read once, narrow (video, n, sum): the prior and both top lists run over that. A video has
  // one row with a created_at (the one under its generation's dimensions, which never change), so the listed rows'
  // other columns are read back by video.
  const inWindow = `${scope} AND a.created_at >= ${from} AND a.created_at < ${to} AND a.${n} > 0${conditions}`;
  const rows = await query(
    `WITH v AS MATERIALIZED (
       SELECT a.video_id, a.${n} AS n, a.${sum} AS sum FROM ${videos} a WHERE ${inWindow}
     ), prior AS MATERIALIZED (
       SELECT coalesce(sum(sum) / nullif(sum(n), 0), 0)::float8 AS mean, coalesce(sum(n), 0)::float8 AS n FROM v
     ), ranked AS (
       (SELECT 'best' AS list, v.video_id FROM v WHERE v.n >= ${minViewers}
         ORDER BY (v.sum + (SELECT mean FROM prior) * ${strength}) / (v.n + ${strength}) DESC, v.video_id LIMIT ${limit})
       UNION ALL
       (SELECT 'worst' AS list, v.video_id FROM v WHERE v.n >= ${minViewers}
         ORDER BY (v.sum + (SELECT mean FROM prior) * ${strength}) / (v.n + ${strength}) ASC, v.video_id LIMIT ${limit})
     )
     SELECT p.mean AS prior_mean, p.n AS prior_n, r.list, a.video_id, a.model, a.model_version, a.category, a.segment,
            a.created_at, a.${n} AS n, a.${sum} AS sum, a.${sumSq} AS sumsq, g.prompt
       FROM prior p
       LEFT JOIN ranked r ON true
       LEFT JOIN ${videos} a ON a.video_id = r.video_id AND ${inWindow}
       LEFT JOIN generations g ON g.project_id = ${project} AND g.video_id = r.video_id`,
    params,
  );
  const toVideo = (r: Record<string, unknown>): AggregatedVideo => ({
    videoId: r.video_id as string, model: r.model as string, modelVersion: r.model_version as string,
    category: r.category as string, segment: r.segment as string, prompt: (r.prompt as string) ?? '',
    createdAt: new Date(r.created_at as string), n: Number(r.n), sum: Number(r.sum), sumSq: Number(r.sumsq),
  });
  const priorMean = Number(rows[0]?.prior_mean ?? 0);
  const shrunk = (v: AggregatedVideo) => (v.sum + priorMean * options.priorStrength) / (v.n + options.priorStrength);
  const list = (name: string, sign: 1 | -1) => rows.filter((r) => r.list === name).map(toVideo)
    .sort((a, b) => sign * (shrunk(b) - shrunk(a)) || (a.videoId < b.videoId ? -1 : 1));
  return { priorMean, priorN: Number(rows[0]?.prior_n ?? 0), best: list('best', 1), worst: list('worst', -1) };
}

/** SQL conditions of a filter's dimension lists and version pairs; appends their parameters. */
export function dimensionConditions(filter: Pick<RollupFilter, MetricDimension | 'versions'>, params: unknown[], alias = ''): string[] {
  const conditions: string[] = [];
  for (const dim of METRIC_DIMENSIONS) {
    const values = filter[dim];
    if (values && values.length) {
      params.push(values.map((v) => (v === UNKNOWN_FILTER ? '' : v)));
      conditions.push(`${alias}${DIMENSION_COLUMN[dim]} = ANY($${params.length}::text[])`);
    }
  }
  if (filter.versions) {
    params.push(filter.versions.map((v) => v.model), filter.versions.map((v) => v.modelVersion));
    conditions.push(`(${alias}model, ${alias}model_version) IN (SELECT * FROM unnest($${params.length - 1}::text[], $${params.length}::text[]))`);
  }
  return conditions;
}

/**
 * Rollup rows of the window with one row per (bucket, cell), as (bucket, model, model_version, category, segment,
 * counters as float8): hour buckets are hourly rows as stored; day buckets are the daily rows of the whole UTC days
 * inside [from, to) and, for the ragged hours at either end (each within one UTC day), their hourly rows summed per
 * cell under that day (or, when the window holds no whole day, its hourly rows summed per cell and day). Appends its
 * parameters to `params` (which must already hold the project id as $1).
 */
function cellBucketSource(filter: RollupFilter, granularity: Granularity, params: unknown[]): string {
  const where = dimensionConditions(filter, params).map((c) => ` AND ${c}`).join('');
  const at = (date: Date | number) => {
    params.push(new Date(date).toISOString());
    return `$${params.length}`;
  };
  const dims = 'model, model_version, category, segment';
  const counters = ROLLUP_COLUMNS.map((c) => `${c}::float8 AS ${c}`).join(', ');
  const summed = FLOAT_SUMS.join(', ');
  const hourly = (from: Date | number, to: Date | number) => `FROM satisfaction_rollups WHERE project_id = $1 AND hour >= ${at(from)} AND hour < ${at(to)}${where}`;
  const from = filter.from.getTime();
  const to = filter.to.getTime();
  if (granularity === 'hour') return `SELECT hour AS bucket, ${dims}, ${counters} ${hourly(from, to)}`;
  const dayFrom = Math.ceil(from / DAY_MS) * DAY_MS;
  const dayTo = Math.floor(to / DAY_MS) * DAY_MS;
  if (dayFrom >= dayTo) {
    return `SELECT date_trunc('day', hour, 'UTC') AS bucket, ${dims}, ${summed} ${hourly(from, to)} GROUP BY 1, 2, 3, 4, 5`;
  }
  const parts = [`SELECT day AS bucket, ${dims}, ${counters} FROM satisfaction_rollups_daily
                   WHERE project_id = $1 AND day >= ${at(dayFrom)} AND day < ${at(dayTo)}${where}`];
  if (from < dayFrom) parts.push(`SELECT ${at(dayFrom - DAY_MS)}::timestamptz AS bucket, ${dims}, ${summed} ${hourly(from, dayFrom)} GROUP BY 2, 3, 4, 5`);
  if (dayTo < to) parts.push(`SELECT ${at(dayTo)}::timestamptz AS bucket, ${dims}, ${summed} ${hourly(dayTo, to)} GROUP BY 2, 3, 4, 5`);
  return parts.join(' UNION ALL ');
}

/**
 * Rollup rows of the window as (hour, dims, counters): daily rows for the whole UTC days inside [from, to) (their
 * `hour` is the day's midnight), hourly rows for the rest, or hourly rows only when hours are asked for. Appends
 * its parameters to `params` (which must already hold the project id as $1).
 */
/** Where a rollup read comes from: the hourly and daily tables, their counters, and an extra scope (a dimension). */
export interface RollupTables {
  hourly: string;
  daily: string;
  counters: readonly string[];
  /** A condition every row must meet besides the project (its parameters already in params), e.g. `dimension = $2`. */
  scope?: string;
}

const OVERALL_ROLLUPS: RollupTables = { hourly: 'satisfaction_rollups', daily: 'satisfaction_rollups_daily', counters: ROLLUP_COLUMNS };

/**
 * The window's rollup rows of a project ($1): whole UTC days from the daily table, the rest (or all, when `hourly`)
 * from the hourly one.
 */
export function rollupSource(filter: RollupFilter, hourly: boolean, params: unknown[], tables: RollupTables = OVERALL_ROLLUPS): string {
  const where = [...(tables.scope ? [tables.scope] : []), ...dimensionConditions(filter, params)].map((c) => ` AND ${c}`).join('');
  const columns = `model, model_version, category, segment, ${tables.counters.join(', ')}`;
  const at = (date: Date) => {
    params.push(date.toISOString());
    return `$${params.length}`;
  };
  const from = filter.from.getTime();
  const to = filter.to.getTime();
  const dayFrom = Math.ceil(from / DAY_MS) * DAY_MS;
  const dayTo = Math.floor(to / DAY_MS) * DAY_MS;
  if (hourly || dayFrom >= dayTo) {
    return `SELECT hour, ${columns} FROM ${tables.hourly}
             WHERE project_id = $1 AND hour >= ${at(filter.from)} AND hour < ${at(filter.to)}${where}`;
  }
  const [a, b, c, d] = [at(filter.from), at(new Date(dayFrom)), at(new Date(dayTo)), at(filter.to)];
  return `SELECT day AS hour, ${columns} FROM ${tables.daily}
           WHERE project_id = $1 AND day >= ${b} AND day < ${c}${where}
          UNION ALL
          SELECT hour, ${columns} FROM ${tables.hourly}
           WHERE project_id = $1 AND ((hour >= ${a} AND hour < ${b}) OR (hour >= ${c} AND hour < ${d}))${where}`;
}
