import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Satisfaction: stored policy versions, learned watch-ratio quantiles, the score each (video, user) row contributed,
 * and hourly rollups per project × model × modelVersion × category × segment that dashboards read.
 */
export class SatisfactionRollups1764000100000 implements MigrationInterface {
  name = 'SatisfactionRollups1764000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE satisfaction_policies (
        id text PRIMARY KEY,
        params jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE watch_quantiles (
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        policy_id text NOT NULL REFERENCES satisfaction_policies(id),
        quantiles jsonb NOT NULL,
        learned_from bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, policy_id)
      )`);
    // What this row last contributed to the rollups, so an update can take exactly that back out.
    await q.query(`
      ALTER TABLE video_user_signals
        ADD COLUMN satisfaction real,
        ADD COLUMN policy_id text,
        ADD COLUMN rollup_hour timestamptz,
        ADD COLUMN rollup_attributed boolean NOT NULL DEFAULT false`);
    await q.query(`
      CREATE TABLE satisfaction_rollups (
        project_id uuid NOT NULL,
        hour timestamptz NOT NULL,
        model text NOT NULL,
        model_version text NOT NULL,
        category text NOT NULL,
        segment text NOT NULL,
        policy_id text NOT NULL,
        viewers bigint NOT NULL DEFAULT 0,
        impressions bigint NOT NULL DEFAULT 0,
        plays bigint NOT NULL DEFAULT 0,
        completions bigint NOT NULL DEFAULT 0,
        likes bigint NOT NULL DEFAULT 0,
        favorites bigint NOT NULL DEFAULT 0,
        shares bigint NOT NULL DEFAULT 0,
        downloads bigint NOT NULL DEFAULT 0,
        exports bigint NOT NULL DEFAULT 0,
        comments bigint NOT NULL DEFAULT 0,
        chosen bigint NOT NULL DEFAULT 0,
        passed_over bigint NOT NULL DEFAULT 0,
        regenerates bigint NOT NULL DEFAULT 0,
        discards bigint NOT NULL DEFAULT 0,
        dislikes bigint NOT NULL DEFAULT 0,
        reports bigint NOT NULL DEFAULT 0,
        rating_sum double precision NOT NULL DEFAULT 0,
        rating_count bigint NOT NULL DEFAULT 0,
        watch_n bigint NOT NULL DEFAULT 0,
        watch_sum double precision NOT NULL DEFAULT 0,
        watch_sumsq double precision NOT NULL DEFAULT 0,
        sat_sum double precision NOT NULL DEFAULT 0,
        sat_sumsq double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (project_id, hour, model, model_version, category, segment)
      )`);
    await q.query(`CREATE INDEX satisfaction_rollups_version_idx ON satisfaction_rollups (project_id, model_version, hour)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE satisfaction_rollups`);
    await q.query(`ALTER TABLE video_user_signals DROP COLUMN satisfaction, DROP COLUMN policy_id, DROP COLUMN rollup_hour, DROP COLUMN rollup_attributed`);
    await q.query(`DROP TABLE watch_quantiles`);
    await q.query(`DROP TABLE satisfaction_policies`);
  }
}
