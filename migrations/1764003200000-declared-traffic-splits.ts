import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The traffic split a project intends between two generators (issue 11, item 3): `/v1/metrics/compare` runs its
 * sample-ratio-mismatch test against it when the query gives no `expectedSplit`. One row per (project, baseline,
 * candidate), sides as compare takes them (`model:version` or a bare version); shares are relative weights (50:50, 9:1).
 */
export class DeclaredTrafficSplits1764003200000 implements MigrationInterface {
  name = 'DeclaredTrafficSplits1764003200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE traffic_splits (
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        baseline text NOT NULL CHECK (baseline <> ''),
        candidate text NOT NULL CHECK (candidate <> '' AND candidate <> baseline),
        baseline_share double precision NOT NULL CHECK (baseline_share > 0),
        candidate_share double precision NOT NULL CHECK (candidate_share > 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, baseline, candidate)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE traffic_splits`);
  }
}
