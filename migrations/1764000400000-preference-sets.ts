import { MigrationInterface, QueryRunner } from 'typeorm';

/** Immutable preference-set snapshots (pairs and ranked lists), their publications, and generator lineage. */
export class PreferenceSets1764000400000 implements MigrationInterface {
  name = 'PreferenceSets1764000400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE preference_sets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        status text NOT NULL DEFAULT 'building' CHECK (status IN ('building', 'ready', 'failed')),
        filters jsonb NOT NULL,
        manifest jsonb,
        content_sha256 text,
        error text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX preference_sets_project_idx ON preference_sets (project_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE preference_pairs (
        set_id uuid NOT NULL REFERENCES preference_sets(id) ON DELETE CASCADE,
        seq integer NOT NULL,
        chosen_id text NOT NULL,
        rejected_id text NOT NULL,
        chosen_uri text,
        rejected_uri text,
        prompt text NOT NULL,
        request_id text,
        model_version text,
        margin real NOT NULL,
        weight real NOT NULL,
        tie boolean NOT NULL,
        scope text NOT NULL,
        group_key text NOT NULL,
        split text NOT NULL,
        source text NOT NULL,
        dimensions jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (set_id, seq)
      )`);
    await q.query(`
      CREATE TABLE preference_rankings (
        set_id uuid NOT NULL REFERENCES preference_sets(id) ON DELETE CASCADE,
        seq integer NOT NULL,
        request_id text NOT NULL,
        prompt text NOT NULL,
        source text NOT NULL,
        candidates jsonb NOT NULL,
        PRIMARY KEY (set_id, seq)
      )`);
    await q.query(`
      CREATE TABLE preference_publications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        set_id uuid NOT NULL REFERENCES preference_sets(id) ON DELETE CASCADE,
        topic text NOT NULL,
        messages integer NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE generator_versions (
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        model text NOT NULL,
        model_version text NOT NULL,
        parent_version text,
        trained_on uuid[] NOT NULL DEFAULT '{}',
        notes text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, model, model_version)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE generator_versions`);
    await q.query(`DROP TABLE preference_publications`);
    await q.query(`DROP TABLE preference_rankings`);
    await q.query(`DROP TABLE preference_pairs`);
    await q.query(`DROP TABLE preference_sets`);
  }
}
