import { MigrationInterface, QueryRunner } from 'typeorm';

// Frozen at this migration: the counters video_aggregates no longer keeps (it keeps libs/satisfaction
// MOMENT_COUNTERS and sat_sumsq; test/schema-facts.test.ts holds the table to that list).
const DROPPED = ['impressions', 'comments', 'chosen', 'passed_over', 'reports', 'rating_sum', 'rating_count', 'watch_sumsq'];

/**
 * video_aggregates keeps the counters the cluster moments use (the moment pairs' counters and `viewers`) and the Σ²
 * of satisfaction that /v1/metrics/videos ranks with: nothing reads the other 8 (the dashboard and compare read the
 * rollups), and every events batch rewrites a row per video it touches, while /v1/metrics/videos scans the rows of a
 * window's videos — 64 bytes a row narrower for both. Dropping a column only marks it dropped (no rewrite).
 *
 * Down puts the columns back and fills them from the signal rows (the SQL form of the policy's contribution rules,
 * as ClusterAggregates1764002100000 wrote them); `flywheel metrics rebuild` recomputes them with the TypeScript rules.
 */
export class NarrowVideoAggregates1764004400000 implements MigrationInterface {
  name = 'NarrowVideoAggregates1764004400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE video_aggregates ${DROPPED.map((c) => `DROP COLUMN ${c}`).join(', ')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE video_aggregates ${DROPPED.map((c) => `ADD COLUMN ${c} double precision NOT NULL DEFAULT 0`).join(', ')}`);
    const watch = `CASE WHEN s.completed THEN least(greatest(coalesce(s.max_watch_ratio::float8, 1), 1), 1.5)
                        WHEN s.max_watch_ratio IS NULL OR s.max_watch_ratio = 'NaN' THEN NULL
                        ELSE least(greatest(s.max_watch_ratio::float8, 0), 1.5) END`;
    await q.query(`
      UPDATE video_aggregates a SET impressions = c.impressions, comments = c.comments, chosen = c.chosen,
             passed_over = c.passed_over, reports = c.reports, rating_sum = c.rating_sum, rating_count = c.rating_count,
             watch_sumsq = c.watch_sumsq
        FROM (SELECT s.project_id, s.video_id,
                     CASE WHEN s.rollup_attributed THEN g.model ELSE '' END AS model,
                     CASE WHEN s.rollup_attributed THEN g.model_version ELSE '' END AS model_version,
                     CASE WHEN s.rollup_attributed THEN coalesce(g.category, '') ELSE '' END AS category,
                     CASE WHEN s.rollup_attributed THEN coalesce(g.segment, '') ELSE '' END AS segment,
                     count(*) FILTER (WHERE s.impressed)::float8 AS impressions, count(*) FILTER (WHERE s.commented)::float8 AS comments,
                     count(*) FILTER (WHERE s.chosen)::float8 AS chosen,
                     count(*) FILTER (WHERE s.passed_over AND NOT s.chosen)::float8 AS passed_over,
                     count(*) FILTER (WHERE s.reported)::float8 AS reports, coalesce(sum(s.rating), 0)::float8 AS rating_sum,
                     count(s.rating)::float8 AS rating_count, coalesce(sum(w.w * w.w), 0)::float8 AS watch_sumsq
                FROM video_user_signals s
                LEFT JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
               CROSS JOIN LATERAL (SELECT ${watch} AS w) AS w
               WHERE s.rollup_hour IS NOT NULL AND s.satisfaction IS NOT NULL
               GROUP BY 1, 2, 3, 4, 5, 6) AS c
       WHERE a.project_id = c.project_id AND a.video_id = c.video_id AND a.model = c.model AND a.model_version = c.model_version
         AND a.category = c.category AND a.segment = c.segment`);
  }
}
