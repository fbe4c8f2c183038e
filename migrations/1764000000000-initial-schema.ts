import { MigrationInterface, QueryRunner } from 'typeorm';

/** Projects and keys, generations, feedback events and per-(video, user) signal state. */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE projects (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        feature_dim integer NOT NULL CHECK (feature_dim BETWEEN 1 AND 4096),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Keys are 256-bit random tokens, so a fast SHA-256 is a safe hash here (a slow KDF would cost every request).
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('ingest', 'secret')),
        key_hash bytea NOT NULL UNIQUE,
        key_prefix text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_project_idx ON api_keys (project_id)`);
    await q.query(`
      CREATE TABLE generations (
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        video_id text NOT NULL,
        request_id text NOT NULL,
        prompt text NOT NULL,
        prompt_norm text NOT NULL,
        model text NOT NULL,
        model_version text NOT NULL,
        category text,
        segment text,
        duration_ms double precision,
        uri text,
        features real[] NOT NULL,
        created_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (project_id, video_id)
      )`);
    await q.query(`CREATE INDEX generations_request_idx ON generations (project_id, request_id)`);
    await q.query(`CREATE INDEX generations_prompt_idx ON generations (project_id, prompt_norm)`);
    await q.query(`CREATE INDEX generations_version_idx ON generations (project_id, model_version, created_at)`);
    // No foreign key to generations: events for a video whose generation has not arrived yet are kept.
    await q.query(`
      CREATE TABLE feedback_events (
        project_id uuid NOT NULL,
        event_id text NOT NULL,
        type text NOT NULL,
        video_id text NOT NULL,
        user_hash text NOT NULL,
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL,
        session_id text,
        request_id text,
        watch_ms double precision,
        duration_ms double precision,
        rating smallint,
        dimension text,
        PRIMARY KEY (project_id, event_id)
      )`);
    await q.query(`CREATE INDEX feedback_events_video_idx ON feedback_events (project_id, video_id)`);
    await q.query(`
      CREATE TABLE video_user_signals (
        project_id uuid NOT NULL,
        video_id text NOT NULL,
        user_hash text NOT NULL,
        impressed boolean NOT NULL DEFAULT false,
        played boolean NOT NULL DEFAULT false,
        completed boolean NOT NULL DEFAULT false,
        max_watch_ratio real,
        max_watch_ms double precision,
        duration_ms double precision,
        liked boolean NOT NULL DEFAULT false,
        favorited boolean NOT NULL DEFAULT false,
        shared boolean NOT NULL DEFAULT false,
        downloaded boolean NOT NULL DEFAULT false,
        exported boolean NOT NULL DEFAULT false,
        commented boolean NOT NULL DEFAULT false,
        rating smallint,
        dimension_ratings jsonb NOT NULL DEFAULT '{}',
        chosen boolean NOT NULL DEFAULT false,
        passed_over boolean NOT NULL DEFAULT false,
        regenerated boolean NOT NULL DEFAULT false,
        discarded boolean NOT NULL DEFAULT false,
        disliked boolean NOT NULL DEFAULT false,
        reported boolean NOT NULL DEFAULT false,
        clock jsonb NOT NULL DEFAULT '{}',
        event_count integer NOT NULL DEFAULT 0,
        first_event_at timestamptz,
        last_event_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, video_id, user_hash)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE video_user_signals`);
    await q.query(`DROP TABLE feedback_events`);
    await q.query(`DROP TABLE generations`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE projects`);
  }
}
