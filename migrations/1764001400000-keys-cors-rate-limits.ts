import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Key management, CORS and rate limits. A key may expire (`expires_at`: the old key of a rotation keeps working for
 * the overlap window) and records when it was last used (approximate: written when an api process looks the key up,
 * at most once per key-cache TTL). A project may list the browser origins allowed to post to its ingest routes
 * (null: the api's default) and override the api's rate limits (`rate_limits`: `{ ingest?: { perSecond, burst },
 * secret?: … }`). A deleted project keeps its row (`deleted_at`) so its keys are refused with a clear answer.
 */
export class KeysCorsRateLimits1764001400000 implements MigrationInterface {
  name = 'KeysCorsRateLimits1764001400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN expires_at timestamptz, ADD COLUMN last_used_at timestamptz`);
    await q.query(`ALTER TABLE projects ADD COLUMN allowed_origins text[], ADD COLUMN rate_limits jsonb, ADD COLUMN deleted_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projects DROP COLUMN allowed_origins, DROP COLUMN rate_limits, DROP COLUMN deleted_at`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN expires_at, DROP COLUMN last_used_at`);
  }
}
