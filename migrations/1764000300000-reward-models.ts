import { MigrationInterface, QueryRunner } from 'typeorm';

/** Model registry (ONNX bytes, card, metrics, frozen evaluation pairs, status) and training jobs. */
export class RewardModels1764000300000 implements MigrationInterface {
  name = 'RewardModels1764000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE reward_models (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        version integer NOT NULL,
        kind text NOT NULL CHECK (kind IN ('linear', 'mlp')),
        status text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'production', 'retired')),
        status_reason text,
        feature_dim integer NOT NULL,
        policy_id text NOT NULL,
        preference_set_id uuid,
        onnx bytea NOT NULL,
        card jsonb NOT NULL,
        card_markdown text NOT NULL,
        metrics jsonb NOT NULL,
        evaluation_set_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        promoted_at timestamptz,
        UNIQUE (project_id, version)
      )`);
    await q.query(`CREATE UNIQUE INDEX reward_models_one_production ON reward_models (project_id) WHERE status = 'production'`);
    // Frozen pairs with the features they had, so later comparisons score exactly the same inputs.
    await q.query(`
      CREATE TABLE evaluation_sets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        feature_dim integer NOT NULL,
        pairs integer NOT NULL,
        features_a bytea NOT NULL,
        features_b bytea NOT NULL,
        outcome bytea NOT NULL,
        weight bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE training_jobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        options jsonb NOT NULL,
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
        progress jsonb,
        model_id uuid REFERENCES reward_models(id),
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await q.query(`CREATE INDEX training_jobs_queue_idx ON training_jobs (created_at) WHERE status = 'queued'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE training_jobs`);
    await q.query(`DROP TABLE evaluation_sets`);
    await q.query(`DROP TABLE reward_models`);
  }
}
