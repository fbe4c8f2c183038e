import { MigrationInterface, QueryRunner } from 'typeorm';

// Frozen copies of libs/satisfaction DIMENSION_COUNTERS and DIMENSION_MOMENT_COLUMNS at this migration
// (test/schema-facts.test.ts holds the tables to the live lists).
const COUNTERS = ['rated', 'rating_sum', 'rating_sumsq'];
const MOMENTS: [string, string][] = [['rating_sum', 'rating_sum'], ['rating_sum', 'rated'], ['rated', 'rated']];
const momentName = (a: string, b: string) => `m_${a}__${b}`;
const counterColumns = COUNTERS.map((c) => `${c} double precision NOT NULL DEFAULT 0`).join(', ');
const CELL = 'model text NOT NULL, model_version text NOT NULL, category text NOT NULL, segment text NOT NULL, dimension text NOT NULL';

/**
 * Metrics per rating dimension (issue 12): the mean rating of each dimension per version over time, with cluster-robust
 * intervals as for the overall metrics. Beside the overall tables, keyed like them plus `dimension`:
 * - dimension_rollups (hourly) and dimension_rollups_daily: rated rows, Σ rating, Σ rating² per dimension;
 * - dimension_video_aggregates (with the generation's created_at) and dimension_user_aggregates: the same, all-time,
 *   per video and per (user, model version);
 * - dimension_cluster_moments: per unit, (model, version[, category, segment]) and dimension, the clusters that rated
 *   it and Σ_g S_a·S_b of the mean rating's counters.
 * The ingest-worker writes them in the batch's transaction, one statement, only when a batch's (new − old) deltas
 * touch dimension ratings; `flywheel metrics rebuild` recomputes them. Existing data: filled here from the signal
 * rows' dimension_ratings.
 */
export class DimensionRollups1764003400000 implements MigrationInterface {
  name = 'DimensionRollups1764003400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE dimension_rollups (project_id uuid NOT NULL, hour timestamptz NOT NULL, ${CELL}, ${counterColumns},
      PRIMARY KEY (project_id, hour, model, model_version, category, segment, dimension))`);
    await q.query(`CREATE TABLE dimension_rollups_daily (project_id uuid NOT NULL, day timestamptz NOT NULL, ${CELL}, ${counterColumns},
      PRIMARY KEY (project_id, day, model, model_version, category, segment, dimension))`);
    await q.query(`CREATE TABLE dimension_video_aggregates (project_id uuid NOT NULL, video_id text NOT NULL, ${CELL},
      created_at timestamptz, ${counterColumns},
      PRIMARY KEY (project_id, video_id, model, model_version, category, segment, dimension))`);
    await q.query(`CREATE INDEX dimension_video_aggregates_created_idx ON dimension_video_aggregates (project_id, dimension, created_at)`);
    await q.query(`CREATE TABLE dimension_user_aggregates (project_id uuid NOT NULL, user_hash text NOT NULL, model text NOT NULL,
      model_version text NOT NULL, dimension text NOT NULL, ${counterColumns},
      PRIMARY KEY (project_id, user_hash, model, model_version, dimension))`);
    await q.query(`CREATE TABLE dimension_cluster_moments (project_id uuid NOT NULL, unit text NOT NULL CHECK (unit IN ('video', 'user')),
      ${CELL}, clusters double precision NOT NULL DEFAULT 0,
      ${MOMENTS.map(([a, b]) => `${momentName(a, b)} double precision NOT NULL DEFAULT 0`).join(', ')},
      PRIMARY KEY (project_id, unit, model, model_version, category, segment, dimension))`);

    const contribution = `
      SELECT s.project_id, s.video_id, s.user_hash, s.rollup_hour AS hour,
             CASE WHEN s.rollup_attributed THEN g.model ELSE '' END AS model,
             CASE WHEN s.rollup_attributed THEN g.model_version ELSE '' END AS model_version,
             CASE WHEN s.rollup_attributed THEN coalesce(g.category, '') ELSE '' END AS category,
             CASE WHEN s.rollup_attributed THEN coalesce(g.segment, '') ELSE '' END AS segment,
             CASE WHEN s.rollup_attributed THEN g.created_at END AS created_at,
             d.key AS dimension, 1::float8 AS rated, d.value::float8 AS rating_sum, d.value::float8 * d.value::float8 AS rating_sumsq
        FROM video_user_signals s
        LEFT JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
       CROSS JOIN LATERAL jsonb_each_text(s.dimension_ratings) AS d
       WHERE s.rollup_hour IS NOT NULL AND s.satisfaction IS NOT NULL AND s.dimension_ratings <> '{}'::jsonb`;
    const sums = COUNTERS.map((c) => `sum(${c})`).join(', ');
    const cols = COUNTERS.join(', ');
    await q.query(`INSERT INTO dimension_rollups (project_id, hour, model, model_version, category, segment, dimension, ${cols})
      SELECT project_id, hour, model, model_version, category, segment, dimension, ${sums} FROM (${contribution}) c GROUP BY 1, 2, 3, 4, 5, 6, 7`);
    await q.query(`INSERT INTO dimension_rollups_daily (project_id, day, model, model_version, category, segment, dimension, ${cols})
      SELECT project_id, date_trunc('day', hour, 'UTC'), model, model_version, category, segment, dimension, ${sums}
        FROM dimension_rollups GROUP BY 1, 2, 3, 4, 5, 6, 7`);
    await q.query(`INSERT INTO dimension_video_aggregates (project_id, video_id, model, model_version, category, segment, dimension, created_at, ${cols})
      SELECT project_id, video_id, model, model_version, category, segment, dimension, max(created_at), ${sums}
        FROM (${contribution}) c GROUP BY 1, 2, 3, 4, 5, 6, 7`);
    await q.query(`INSERT INTO dimension_user_aggregates (project_id, user_hash, model, model_version, dimension, ${cols})
      SELECT project_id, user_hash, model, model_version, dimension, ${sums} FROM (${contribution}) c GROUP BY 1, 2, 3, 4, 5`);
    const moments = MOMENTS.map(([a, b]) => `sum(${a} * ${b})`).join(', ');
    const momentCols = MOMENTS.map(([a, b]) => momentName(a, b)).join(', ');
    await q.query(`INSERT INTO dimension_cluster_moments (project_id, unit, model, model_version, category, segment, dimension, clusters, ${momentCols})
      SELECT project_id, 'video', model, model_version, category, segment, dimension, count(*) FILTER (WHERE rated > 0), ${moments}
        FROM dimension_video_aggregates GROUP BY 1, 2, 3, 4, 5, 6, 7`);
    await q.query(`INSERT INTO dimension_cluster_moments (project_id, unit, model, model_version, category, segment, dimension, clusters, ${momentCols})
      SELECT project_id, 'user', model, model_version, '', '', dimension, count(*) FILTER (WHERE rated > 0), ${moments}
        FROM dimension_user_aggregates GROUP BY 1, 2, 3, 4, 5, 6, 7`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['dimension_cluster_moments', 'dimension_user_aggregates', 'dimension_video_aggregates', 'dimension_rollups_daily', 'dimension_rollups']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
