import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A project's retention of raw events (days; null: kept forever, the default), and the time before which the
 * maintenance job has removed some of its raw events (null: none removed), which `flywheel metrics rebuild` checks.
 */
export class ProjectEventRetention1764002710000 implements MigrationInterface {
  name = 'ProjectEventRetention1764002710000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE projects
        ADD COLUMN event_retention_days integer CHECK (event_retention_days BETWEEN 1 AND 36500),
        ADD COLUMN events_pruned_before timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projects DROP COLUMN event_retention_days, DROP COLUMN events_pruned_before`);
  }
}
