import { DataSource } from 'typeorm';
import { ROLLUP_COUNTERS, type RollupCounter } from '@flywheel/satisfaction';

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

/** A window of rollup hours [from, to) and filters; an empty or absent list does not filter. */
export interface RollupFilter {
  from: Date;
  to: Date;
  model?: string[];
  modelVersion?: string[];
  category?: string[];
  segment?: string[];
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

/**
 * Read side of the satisfaction metrics. Dashboards read the daily and hourly rollups (one statement per answer; the
 * statistics are computed by the caller); per-video rankings read the per-(video, user) signal rows. Every query is
 * scoped by project.
 */
export class MetricsRepository {
  constructor(private readonly db: DataSource) {}

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
      // float8 sums: exact for counts below 2^53, and read back as numbers rather than numeric strings.
      ...ROLLUP_COLUMNS.map((c) => `sum(${c})::float8 AS ${c}`),
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
}

const DAY_MS = 86_400_000;

/**
 * Rollup rows of the window as (hour, dims, counters): daily rows for the whole UTC days inside [from, to) (their
 * `hour` is the day's midnight), hourly rows for the rest, or hourly rows only when hours are asked for. Appends
 * its parameters to `params` (which must already hold the project id as $1).
 */
function rollupSource(filter: RollupFilter, hourly: boolean, params: unknown[]): string {
  const conditions: string[] = [];
  for (const dim of METRIC_DIMENSIONS) {
    const values = filter[dim];
    if (values && values.length) {
      params.push(values);
      conditions.push(`${DIMENSION_COLUMN[dim]} = ANY($${params.length}::text[])`);
    }
  }
  const where = conditions.map((c) => ` AND ${c}`).join('');
  const columns = `model, model_version, category, segment, ${ROLLUP_COLUMNS.join(', ')}`;
  const at = (date: Date) => {
    params.push(date.toISOString());
    return `$${params.length}`;
  };
  const from = filter.from.getTime();
  const to = filter.to.getTime();
  const dayFrom = Math.ceil(from / DAY_MS) * DAY_MS;
  const dayTo = Math.floor(to / DAY_MS) * DAY_MS;
  if (hourly || dayFrom >= dayTo) {
    return `SELECT hour, ${columns} FROM satisfaction_rollups
             WHERE project_id = $1 AND hour >= ${at(filter.from)} AND hour < ${at(filter.to)}${where}`;
  }
  const [a, b, c, d] = [at(filter.from), at(new Date(dayFrom)), at(new Date(dayTo)), at(filter.to)];
  return `SELECT day AS hour, ${columns} FROM satisfaction_rollups_daily
           WHERE project_id = $1 AND day >= ${b} AND day < ${c}${where}
          UNION ALL
          SELECT hour, ${columns} FROM satisfaction_rollups
           WHERE project_id = $1 AND ((hour >= ${a} AND hour < ${b}) OR (hour >= ${c} AND hour < ${d}))${where}`;
}
