import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * No query reads feedback_events by video (signals and rollups are kept per (video, user) elsewhere; the rebuild
 * scans a project's events whole), so the index only cost every ingest insert a second B-tree write.
 */
export class DropUnusedEventIndex1764000500000 implements MigrationInterface {
  name = 'DropUnusedEventIndex1764000500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS feedback_events_video_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX feedback_events_video_idx ON feedback_events (project_id, video_id)`);
  }
}
