import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A partial index of the `choose` events by (project, video), on every partition of feedback_events. A generations
 * batch looks for the chooses of its videos' requests (the passed-over rule, PASSED_OVER in libs/database): without
 * it that lookup read every event of the project in each partition (a medium test counted 80,000 rows read for two
 * videos among 20,000 events). Chooses are a small share of events, so the index is small and only a choose pays
 * for its upkeep. Built on the partitioned table, so every partition made later gets it too.
 */
export class ChooseEventsIndex1764004500000 implements MigrationInterface {
  name = 'ChooseEventsIndex1764004500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX feedback_events_choose_idx ON feedback_events (project_id, video_id) WHERE type = 'choose'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX feedback_events_choose_idx`);
  }
}
