import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deleting data (issue 15): a user's data in a project, or a whole project.
 * - `user_tombstones`: one row per deleted user (the HMAC'd id, never the raw one). The ingest-worker drops an event
 *   of that user that happened or reached the api before `deleted_at`, so a retry or a late delivery cannot bring
 *   deleted data back.
 * - `data_deletions`: the deletion jobs, which are also the audit record: what (kind, user hash), who (the key, or
 *   the admin token), when, and what was removed (`result`). A job is `queued`, claimed (`running`, heartbeat; a
 *   stale one is claimed again — every step is idempotent), then `done` or `failed`.
 * - `preference_sets.exported_at`: when the set's first export started (publications are recorded already): a set
 *   that left the service cannot be recalled, so a deletion lists it in `containing_deletions` instead of rebuilding it.
 * - `projects.purged_at`: a deleted project whose data is all gone (its row and keys stay, so the keys answer 410).
 */
export class DataDeletion1764002600000 implements MigrationInterface {
  name = 'DataDeletion1764002600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_tombstones (
        project_id uuid NOT NULL,
        user_hash text NOT NULL,
        deleted_at timestamptz NOT NULL,
        PRIMARY KEY (project_id, user_hash)
      )`);
    await q.query(`
      CREATE TABLE data_deletions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects(id),
        kind text NOT NULL CHECK (kind IN ('user', 'project')),
        user_hash text,
        requested_by text NOT NULL,
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        heartbeat_at timestamptz,
        result jsonb,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        CHECK ((kind = 'user') = (user_hash IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX data_deletions_queue_idx ON data_deletions (created_at) WHERE status IN ('queued', 'running')`);
    await q.query(`CREATE INDEX data_deletions_project_idx ON data_deletions (project_id, created_at)`);
    await q.query(`
      ALTER TABLE preference_sets
        ADD COLUMN exported_at timestamptz,
        ADD COLUMN containing_deletions uuid[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE projects ADD COLUMN purged_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projects DROP COLUMN purged_at`);
    await q.query(`ALTER TABLE preference_sets DROP COLUMN exported_at, DROP COLUMN containing_deletions`);
    await q.query(`DROP TABLE data_deletions`);
    await q.query(`DROP TABLE user_tombstones`);
  }
}
