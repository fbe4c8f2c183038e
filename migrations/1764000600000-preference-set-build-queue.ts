import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Preference-set builds move from the api process to the trainer: a new set is `queued`; a trainer claims it
 * (`building`, attempts + 1) and keeps `heartbeat_at` fresh while it builds. A build whose heartbeat went stale
 * (its trainer died) is claimed again by another. Builds that were running in an api process when this runs are
 * queued again: their rows are cleared by the trainer that takes them.
 */
export class PreferenceSetBuildQueue1764000600000 implements MigrationInterface {
  name = 'PreferenceSetBuildQueue1764000600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE preference_sets DROP CONSTRAINT preference_sets_status_check`);
    await q.query(`ALTER TABLE preference_sets ADD CONSTRAINT preference_sets_status_check CHECK (status IN ('queued', 'building', 'ready', 'failed'))`);
    await q.query(`ALTER TABLE preference_sets ALTER COLUMN status SET DEFAULT 'queued'`);
    await q.query(`ALTER TABLE preference_sets ADD COLUMN attempts integer NOT NULL DEFAULT 0, ADD COLUMN heartbeat_at timestamptz`);
    await q.query(`UPDATE preference_sets SET status = 'queued' WHERE status = 'building'`);
    await q.query(`CREATE INDEX preference_sets_build_queue_idx ON preference_sets (created_at) WHERE status IN ('queued', 'building')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX preference_sets_build_queue_idx`);
    await q.query(`UPDATE preference_sets SET status = 'failed', error = 'build queue removed by a migration rollback' WHERE status IN ('queued', 'building')`);
    await q.query(`ALTER TABLE preference_sets DROP COLUMN attempts, DROP COLUMN heartbeat_at`);
    await q.query(`ALTER TABLE preference_sets ALTER COLUMN status SET DEFAULT 'building'`);
    await q.query(`ALTER TABLE preference_sets DROP CONSTRAINT preference_sets_status_check`);
    await q.query(`ALTER TABLE preference_sets ADD CONSTRAINT preference_sets_status_check CHECK (status IN ('building', 'ready', 'failed'))`);
  }
}
