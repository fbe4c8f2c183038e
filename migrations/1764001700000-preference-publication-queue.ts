import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Publishing a preference set moves from the api request to the trainer's queue, the way set builds did
 * (1764000600000): a publication is `queued`; a trainer claims it (`publishing`, attempts + 1) and keeps
 * `heartbeat_at` fresh; a publication whose heartbeat went stale (its trainer died) is claimed again by another.
 * After Kafka acknowledged each batch the trainer records how far it got (`pair_seq_acked`, `ranking_seq_acked`,
 * `messages`), so a takeover — or a failed publication requested again — continues from there with the same
 * message ids. At most one unfinished publication per set. Rows from before were finished publications: `done`.
 */
export class PreferencePublicationQueue1764001700000 implements MigrationInterface {
  name = 'PreferencePublicationQueue1764001700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE preference_publications
        ADD COLUMN status text NOT NULL DEFAULT 'done' CHECK (status IN ('queued', 'publishing', 'done', 'failed')),
        ADD COLUMN attempts integer NOT NULL DEFAULT 0,
        ADD COLUMN heartbeat_at timestamptz,
        ADD COLUMN pair_seq_acked integer NOT NULL DEFAULT -1,
        ADD COLUMN ranking_seq_acked integer NOT NULL DEFAULT -1,
        ADD COLUMN error text,
        ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(`UPDATE preference_publications SET created_at = published_at`);
    await q.query(`
      ALTER TABLE preference_publications
        ALTER COLUMN status SET DEFAULT 'queued',
        ALTER COLUMN messages SET DEFAULT 0,
        ALTER COLUMN published_at DROP NOT NULL,
        ALTER COLUMN published_at DROP DEFAULT`);
    await q.query(`CREATE UNIQUE INDEX preference_publications_open_idx ON preference_publications (set_id) WHERE status IN ('queued', 'publishing', 'failed')`);
    await q.query(`CREATE INDEX preference_publications_queue_idx ON preference_publications (created_at) WHERE status IN ('queued', 'publishing')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX preference_publications_queue_idx`);
    await q.query(`DROP INDEX preference_publications_open_idx`);
    await q.query(`DELETE FROM preference_publications WHERE status <> 'done'`);
    await q.query(`
      ALTER TABLE preference_publications
        ALTER COLUMN published_at SET DEFAULT now(),
        ALTER COLUMN published_at SET NOT NULL,
        ALTER COLUMN messages DROP DEFAULT,
        DROP COLUMN status, DROP COLUMN attempts, DROP COLUMN heartbeat_at, DROP COLUMN pair_seq_acked,
        DROP COLUMN ranking_seq_acked, DROP COLUMN error, DROP COLUMN created_at`);
  }
}
