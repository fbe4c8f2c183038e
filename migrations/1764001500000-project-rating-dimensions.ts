import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A project's named rating dimensions (a `rate` event naming another is refused with a 400). Existing projects get
 * the defaults. Per-(video, user) dimension ratings already live in video_user_signals.dimension_ratings.
 */
export class ProjectRatingDimensions1764001500000 implements MigrationInterface {
  name = 'ProjectRatingDimensions1764001500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE projects ADD COLUMN rating_dimensions text[] NOT NULL
        DEFAULT ARRAY['visual_quality', 'motion_quality', 'text_alignment']::text[]
        CHECK (cardinality(rating_dimensions) BETWEEN 1 AND 16)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projects DROP COLUMN rating_dimensions`);
  }
}
