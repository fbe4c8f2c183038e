import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A B-tree entry must fit in a third of a page (2,704 bytes): a generation whose normalised prompt did not compress
 * below that (a 10,000-character prompt is valid) failed its insert, and with it its batch on every retry. No query
 * looks generations up by prompt (the "same prompt" scope is grouped in memory), so the index goes; a hash index
 * would do if one ever does (it stores a 4-byte hash, whatever the length).
 */
export class PromptIndexWithoutSizeLimit1764001100000 implements MigrationInterface {
  name = 'PromptIndexWithoutSizeLimit1764001100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS generations_prompt_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX generations_prompt_idx ON generations (project_id, prompt_norm)`);
  }
}
