import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The per-dimension rollups get the version index the overall ones have (satisfaction_rollups(_daily)_version_idx),
 * led by the dimension every read is scoped to: `/v1/metrics/compare?dimension=` sums two versions' rows of the window,
 * which the primary keys (project, hour or day, cell…, dimension) can only find by reading every cell and dimension of
 * those hours and days. Key columns only, never updated: a rollup update stays a HOT update; a new row adds one entry.
 */
export class DimensionRollupsVersionIndex1764004200000 implements MigrationInterface {
  name = 'DimensionRollupsVersionIndex1764004200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX dimension_rollups_version_idx ON dimension_rollups (project_id, dimension, model_version, hour)`);
    await q.query(`CREATE INDEX dimension_rollups_daily_version_idx ON dimension_rollups_daily (project_id, dimension, model_version, day)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX dimension_rollups_daily_version_idx`);
    await q.query(`DROP INDEX dimension_rollups_version_idx`);
  }
}
