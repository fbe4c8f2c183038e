import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the trainer-ready exports need (issue 13):
 * - a generation may declare its `fps` and `num_frames` (VideoAlign's fps_A/num_frames_A columns); a set keeps
 *   both sides' values in its pairs, so its exports never change after it was built;
 * - `preference_outcomes`: one row per observed video of a set (its prompt group, split, reward overall and per
 *   dimension, and its like/dislike outcome counts), what kto-jsonl and groups-jsonl are encoded from;
 * - `user_salt`: the set's own secret salt for session-scope group keys (`user:<hmac(salt, user hash)>`), so no
 *   stable user pseudonym leaves the service and two sets cannot be joined on a user. It never leaves the database
 *   (user deletion recomputes a user's key in a set from it).
 */
export class TrainerReadyExports1764002300000 implements MigrationInterface {
  name = 'TrainerReadyExports1764002300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE generations ADD COLUMN fps real, ADD COLUMN num_frames integer`);
    await q.query(`
      ALTER TABLE preference_pairs
        ADD COLUMN chosen_fps real, ADD COLUMN chosen_frames integer,
        ADD COLUMN rejected_fps real, ADD COLUMN rejected_frames integer`);
    await q.query(`ALTER TABLE preference_sets ADD COLUMN user_salt bytea`);
    await q.query(`
      CREATE TABLE preference_outcomes (
        set_id uuid NOT NULL REFERENCES preference_sets(id) ON DELETE CASCADE,
        seq integer NOT NULL,
        video_id text NOT NULL,
        request_id text NOT NULL,
        prompt text NOT NULL,
        prompt_norm text NOT NULL,
        uri text,
        model_version text NOT NULL,
        split text NOT NULL,
        n integer NOT NULL,
        reward real NOT NULL,
        rewards jsonb NOT NULL DEFAULT '{}',
        positive integer NOT NULL,
        negative integer NOT NULL,
        label boolean,
        fps real,
        num_frames integer,
        PRIMARY KEY (set_id, seq)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE preference_outcomes`);
    await q.query(`ALTER TABLE preference_sets DROP COLUMN user_salt`);
    await q.query(`ALTER TABLE preference_pairs DROP COLUMN chosen_fps, DROP COLUMN chosen_frames, DROP COLUMN rejected_fps, DROP COLUMN rejected_frames`);
    await q.query(`ALTER TABLE generations DROP COLUMN fps, DROP COLUMN num_frames`);
  }
}
