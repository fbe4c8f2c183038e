import { MigrationInterface, QueryRunner } from 'typeorm';

// Frozen copies of libs/satisfaction's ROLLUP_COUNTERS and MOMENT_COLUMNS as they are at this migration
// (test/schema-facts.test.ts holds the tables to the live lists).
const COUNTERS = [
  'viewers', 'impressions', 'plays', 'completions', 'likes', 'favorites', 'shares', 'downloads', 'exports', 'comments',
  'chosen', 'passed_over', 'regenerates', 'discards', 'dislikes', 'reports', 'rating_sum', 'rating_count', 'watch_n',
  'watch_sum', 'watch_sumsq', 'sat_sum', 'sat_sumsq',
];
const FLOAT_COUNTERS = new Set(['rating_sum', 'watch_sum', 'watch_sumsq', 'sat_sum', 'sat_sumsq']);
const PAIRS: [string, string][] = [
  ['likes', 'viewers'], ['favorites', 'viewers'], ['shares', 'viewers'], ['downloads', 'viewers'], ['exports', 'viewers'],
  ['completions', 'plays'], ['regenerates', 'viewers'], ['discards', 'viewers'], ['dislikes', 'viewers'],
  ['watch_sum', 'watch_n'], ['sat_sum', 'viewers'],
];
const MOMENTS: [string, string][] = [];
for (const [a, b] of [...PAIRS.map(([n]) => [n, n]), ...PAIRS, ...PAIRS.map(([, d]) => [d, d])] as [string, string][]) {
  if (!MOMENTS.some(([x, y]) => x === a && y === b)) MOMENTS.push([a, b]);
}
const momentName = (a: string, b: string) => `m_${a}__${b}`;
const counterColumns = COUNTERS.map((c) => `${c} double precision NOT NULL DEFAULT 0`).join(',\n        ');

/**
 * Per-video and per-user aggregates and their cluster moments, for cluster-robust intervals (issue 11).
 *
 * - video_aggregates: all-time rollup counters per video and its rollup dimensions (a video's rows sit under model ''
 *   until its generation arrives, then move to its dimensions), with the generation's created_at (null while
 *   unattributed). Serves /v1/metrics/videos.
 * - user_aggregates: all-time counters per user and (model, model_version).
 * - cluster_moments: per project, unit ('video' | 'user') and (model, model_version): the number of clusters with
 *   viewers and Σ_g S_g,a·S_g,b over clusters for the counter pairs of libs/satisfaction MOMENT_COLUMNS.
 * All three are written by IngestTransaction.applyRollupDeltas from the same (new − old) contributions as the
 * rollups, in the batch's transaction. Counters are double precision here (not bigint): the moment arithmetic is
 * done in float8, exact for integer counts below 2^53.
 *
 * Existing data: filled here from the signal rows (their stored satisfaction and flags, the policy's contribution
 * rules written in SQL); `flywheel metrics rebuild` recomputes them with the TypeScript rules.
 */
export class ClusterAggregates1764002100000 implements MigrationInterface {
  name = 'ClusterAggregates1764002100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE video_aggregates (
        project_id uuid NOT NULL,
        video_id text NOT NULL,
        model text NOT NULL,
        model_version text NOT NULL,
        category text NOT NULL,
        segment text NOT NULL,
        created_at timestamptz,
        ${counterColumns},
        PRIMARY KEY (project_id, video_id, model, model_version, category, segment)
      )`);
    await q.query(`CREATE INDEX video_aggregates_created_idx ON video_aggregates (project_id, created_at)`);
    await q.query(`
      CREATE TABLE user_aggregates (
        project_id uuid NOT NULL,
        user_hash text NOT NULL,
        model text NOT NULL,
        model_version text NOT NULL,
        ${counterColumns},
        PRIMARY KEY (project_id, user_hash, model, model_version)
      )`);
    await q.query(`
      CREATE TABLE cluster_moments (
        project_id uuid NOT NULL,
        unit text NOT NULL CHECK (unit IN ('video', 'user')),
        model text NOT NULL,
        model_version text NOT NULL,
        clusters double precision NOT NULL DEFAULT 0,
        ${MOMENTS.map(([a, b]) => `${momentName(a, b)} double precision NOT NULL DEFAULT 0`).join(',\n        ')},
        PRIMARY KEY (project_id, unit, model, model_version)
      )`);

    // Backfill from the signal rows that are rolled up (the SQL form of contributionOf).
    const watch = `CASE WHEN s.completed THEN least(greatest(coalesce(s.max_watch_ratio::float8, 1), 1), 1.5)
                        WHEN s.max_watch_ratio IS NULL OR s.max_watch_ratio = 'NaN' THEN NULL
                        ELSE least(greatest(s.max_watch_ratio::float8, 0), 1.5) END`;
    const contribution = `
      SELECT s.project_id, s.video_id, s.user_hash,
             CASE WHEN s.rollup_attributed THEN g.model ELSE '' END AS model,
             CASE WHEN s.rollup_attributed THEN g.model_version ELSE '' END AS model_version,
             CASE WHEN s.rollup_attributed THEN coalesce(g.category, '') ELSE '' END AS category,
             CASE WHEN s.rollup_attributed THEN coalesce(g.segment, '') ELSE '' END AS segment,
             CASE WHEN s.rollup_attributed THEN g.created_at END AS created_at,
             1 AS viewers, s.impressed::int AS impressions, s.played::int AS plays, s.completed::int AS completions,
             s.liked::int AS likes, s.favorited::int AS favorites, s.shared::int AS shares, s.downloaded::int AS downloads,
             s.exported::int AS exports, s.commented::int AS comments, s.chosen::int AS chosen,
             (s.passed_over AND NOT s.chosen)::int AS passed_over, s.regenerated::int AS regenerates,
             s.discarded::int AS discards, s.disliked::int AS dislikes, s.reported::int AS reports,
             coalesce(s.rating, 0) AS rating_sum, (s.rating IS NOT NULL)::int AS rating_count,
             (w.w IS NOT NULL)::int AS watch_n, coalesce(w.w, 0) AS watch_sum, coalesce(w.w * w.w, 0) AS watch_sumsq,
             s.satisfaction::float8 AS sat_sum, s.satisfaction::float8 * s.satisfaction::float8 AS sat_sumsq
        FROM video_user_signals s
        LEFT JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
       CROSS JOIN LATERAL (SELECT ${watch} AS w) AS w
       WHERE s.rollup_hour IS NOT NULL AND s.satisfaction IS NOT NULL`;
    const sums = COUNTERS.map((c) => `sum(${c})::float8`).join(', ');
    await q.query(`
      INSERT INTO video_aggregates (project_id, video_id, model, model_version, category, segment, created_at, ${COUNTERS.join(', ')})
      SELECT project_id, video_id, model, model_version, category, segment, max(created_at), ${sums}
        FROM (${contribution}) AS c GROUP BY 1, 2, 3, 4, 5, 6`);
    await q.query(`
      INSERT INTO user_aggregates (project_id, user_hash, model, model_version, ${COUNTERS.join(', ')})
      SELECT project_id, user_hash, model, model_version, ${sums}
        FROM (${contribution}) AS c GROUP BY 1, 2, 3, 4`);
    for (const [unit, table] of [['video', 'video_aggregates'], ['user', 'user_aggregates']]) {
      await q.query(`
        INSERT INTO cluster_moments (project_id, unit, model, model_version, clusters, ${MOMENTS.map(([a, b]) => momentName(a, b)).join(', ')})
        SELECT project_id, '${unit}', model, model_version, count(*) FILTER (WHERE viewers > 0),
               ${MOMENTS.map(([a, b]) => `sum(${a} * ${b})`).join(', ')}
          FROM ${table} GROUP BY 1, 2, 3, 4`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE cluster_moments`);
    await q.query(`DROP TABLE user_aggregates`);
    await q.query(`DROP TABLE video_aggregates`);
  }
}
