import { MigrationInterface, QueryRunner } from 'typeorm';

// Frozen at this migration: the counters the aggregate tables no longer keep. Both keep libs/satisfaction
// MOMENT_COUNTERS; video_aggregates also sat_sumsq (VIDEO_AGGREGATE_COUNTERS). test/schema-facts.test.ts holds the
// tables to those lists.
const VIDEO_DROPPED = ['impressions', 'comments', 'chosen', 'passed_over', 'reports', 'rating_sum', 'rating_count', 'watch_sumsq'];
const USER_DROPPED = [...VIDEO_DROPPED, 'sat_sumsq'];

/** How each dropped counter is summed from the signal rows (the SQL form of the policy's contribution rules). */
const SUMS: Record<string, string> = {
  impressions: 'count(*) FILTER (WHERE s.impressed)::float8', comments: 'count(*) FILTER (WHERE s.commented)::float8',
  chosen: 'count(*) FILTER (WHERE s.chosen)::float8', passed_over: 'count(*) FILTER (WHERE s.passed_over AND NOT s.chosen)::float8',
  reports: 'count(*) FILTER (WHERE s.reported)::float8', rating_sum: 'coalesce(sum(s.rating), 0)::float8',
  rating_count: 'count(s.rating)::float8', watch_sumsq: 'coalesce(sum(w.w * w.w), 0)::float8',
  sat_sumsq: 'sum(s.satisfaction::float8 * s.satisfaction::float8)',
};

/**
 * The per-user and per-video aggregates keep only the counters something reads: the ones the cluster moments pair up
 * (and `viewers`), and for videos also the Σ² of satisfaction /v1/metrics/videos ranks with. No read path reads the
 * others (the dashboard and compare read the rollups), while every events batch rewrites about one row per user and
 * per video it touches: 9 of 23 float8 columns of user_aggregates and 8 of video_aggregates were written and never
 * read. Dropping a column only marks it dropped (no rewrite); rows written from then on are narrower.
 *
 * Down puts the columns back and fills them from the signal rows (as ClusterAggregates1764002100000 wrote them);
 * `flywheel metrics rebuild` recomputes them with the TypeScript rules.
 */
export class NarrowAggregates1764004300000 implements MigrationInterface {
  name = 'NarrowAggregates1764004300000';

  async up(q: QueryRunner): Promise<void> {
    // IF EXISTS: a database that ran this change as two migrations (NarrowUserAggregates1764004300000 and
    // NarrowVideoAggregates1764004400000, before they were merged into this one) has dropped them already.
    await q.query(`ALTER TABLE user_aggregates ${USER_DROPPED.map((c) => `DROP COLUMN IF EXISTS ${c}`).join(', ')}`);
    await q.query(`ALTER TABLE video_aggregates ${VIDEO_DROPPED.map((c) => `DROP COLUMN IF EXISTS ${c}`).join(', ')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await refill(q, 'user_aggregates', ['project_id', 'user_hash', 'model', 'model_version'], USER_DROPPED);
    await refill(q, 'video_aggregates', ['project_id', 'video_id', 'model', 'model_version', 'category', 'segment'], VIDEO_DROPPED);
  }
}

/** Adds `columns` back to `table` and fills them per key from the rolled-up signal rows (model '' while unattributed). */
async function refill(q: QueryRunner, table: string, key: string[], columns: string[]): Promise<void> {
  await q.query(`ALTER TABLE ${table} ${columns.map((c) => `ADD COLUMN ${c} double precision NOT NULL DEFAULT 0`).join(', ')}`);
  const attributed = (column: string) => `CASE WHEN s.rollup_attributed THEN ${column} ELSE '' END`;
  const keyExpressions: Record<string, string> = {
    project_id: 's.project_id', user_hash: 's.user_hash', video_id: 's.video_id', model: attributed('g.model'),
    model_version: attributed('g.model_version'), category: attributed("coalesce(g.category, '')"),
    segment: attributed("coalesce(g.segment, '')"),
  };
  const watch = `CASE WHEN s.completed THEN least(greatest(coalesce(s.max_watch_ratio::float8, 1), 1), 1.5)
                      WHEN s.max_watch_ratio IS NULL OR s.max_watch_ratio = 'NaN' THEN NULL
                      ELSE least(greatest(s.max_watch_ratio::float8, 0), 1.5) END`;
  await q.query(`
    UPDATE ${table} a SET ${columns.map((c) => `${c} = c.${c}`).join(', ')}
      FROM (SELECT ${key.map((k) => `${keyExpressions[k]} AS ${k}`).join(', ')}, ${columns.map((c) => `${SUMS[c]} AS ${c}`).join(', ')}
              FROM video_user_signals s
              LEFT JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
             CROSS JOIN LATERAL (SELECT ${watch} AS w) AS w
             WHERE s.rollup_hour IS NOT NULL AND s.satisfaction IS NOT NULL
             GROUP BY ${key.map((_, i) => i + 1).join(', ')}) AS c
     WHERE ${key.map((k) => `a.${k} = c.${k}`).join(' AND ')}`);
}
