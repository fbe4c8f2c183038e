import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Frozen evaluation pairs per dimension head: a training run stores, next to its overall evaluation set, one set per
 * trained head (that head's test pairs with their features), so the promotion gate can check each head of a
 * candidate against production's head of the same name on exactly the same inputs. A head set points at its
 * overall set (`head_of`) and names its dimension; the overall set has neither.
 */
export class HeadEvaluationSets1764002800000 implements MigrationInterface {
  name = 'HeadEvaluationSets1764002800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE evaluation_sets
        ADD COLUMN head_of uuid REFERENCES evaluation_sets(id) ON DELETE CASCADE,
        ADD COLUMN dimension text,
        ADD CONSTRAINT evaluation_sets_head_named CHECK ((head_of IS NULL) = (dimension IS NULL))`);
    await q.query(`CREATE UNIQUE INDEX evaluation_sets_head_idx ON evaluation_sets (head_of, dimension) WHERE head_of IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX evaluation_sets_head_idx`);
    await q.query(`ALTER TABLE evaluation_sets DROP CONSTRAINT evaluation_sets_head_named, DROP COLUMN dimension, DROP COLUMN head_of`);
  }
}
