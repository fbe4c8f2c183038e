import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Training jobs get the lease the set builds and publications have: a trainer claims a job (`running`, attempts + 1)
 * and keeps `heartbeat_at` fresh while it trains; a running job whose heartbeat went stale (its trainer died) is
 * claimed again by another. Jobs left `running` when this runs (no heartbeat: their trainers are gone, or will be
 * when they are replaced by this version) are queued again.
 */
export class TrainingJobLease1764003500000 implements MigrationInterface {
  name = 'TrainingJobLease1764003500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE training_jobs ADD COLUMN attempts integer NOT NULL DEFAULT 0, ADD COLUMN heartbeat_at timestamptz`);
    await q.query(`UPDATE training_jobs SET status = 'queued', started_at = NULL WHERE status = 'running'`);
    await q.query(`DROP INDEX training_jobs_queue_idx`);
    await q.query(`CREATE INDEX training_jobs_queue_idx ON training_jobs (created_at) WHERE status IN ('queued', 'running')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX training_jobs_queue_idx`);
    await q.query(`CREATE INDEX training_jobs_queue_idx ON training_jobs (created_at) WHERE status = 'queued'`);
    await q.query(`ALTER TABLE training_jobs DROP COLUMN attempts, DROP COLUMN heartbeat_at`);
  }
}
