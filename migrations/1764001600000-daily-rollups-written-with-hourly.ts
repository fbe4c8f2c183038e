import { MigrationInterface, QueryRunner } from 'typeorm';

// The counters as they were when the trigger existed (down() puts it back as it was).
const COUNTERS = [
  'viewers', 'impressions', 'plays', 'completions', 'likes', 'favorites', 'shares', 'downloads', 'exports', 'comments',
  'chosen', 'passed_over', 'regenerates', 'discards', 'dislikes', 'reports', 'rating_sum', 'rating_count', 'watch_n',
  'watch_sum', 'watch_sumsq', 'sat_sum', 'sat_sumsq',
];
const KEYS = 'project_id, day, model, model_version, category, segment';

/**
 * Daily rollups are written by the code that writes the hourly ones (IngestTransaction.applyRollupDeltas, in the same
 * statement sequence and transaction), no longer by statement triggers on satisfaction_rollups: one writer, in
 * TypeScript, for both granularities. The rows are already equal; nothing to copy.
 */
export class DailyRollupsWrittenWithHourly1764001600000 implements MigrationInterface {
  name = 'DailyRollupsWrittenWithHourly1764001600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER satisfaction_rollups_daily_delete ON satisfaction_rollups`);
    await q.query(`DROP TRIGGER satisfaction_rollups_daily_update ON satisfaction_rollups`);
    await q.query(`DROP TRIGGER satisfaction_rollups_daily_insert ON satisfaction_rollups`);
    await q.query(`DROP FUNCTION satisfaction_rollups_daily_apply()`);
  }

  async down(q: QueryRunner): Promise<void> {
    const sums = COUNTERS.map((c) => `sum(${c})`).join(', ');
    const delta = (table: string, sign: '' | '-') =>
      `SELECT project_id, date_trunc('day', hour, 'UTC') AS day, model, model_version, category, segment,
              ${COUNTERS.map((c) => `${sign}${c} AS ${c}`).join(', ')}
         FROM ${table}`;
    const apply = (source: string) => `
      INSERT INTO satisfaction_rollups_daily AS d (${KEYS}, ${COUNTERS.join(', ')})
      SELECT ${KEYS}, ${sums} FROM (${source}) AS delta
       GROUP BY ${KEYS}
       ORDER BY ${KEYS}
      ON CONFLICT (${KEYS}) DO UPDATE SET ${COUNTERS.map((c) => `${c} = d.${c} + excluded.${c}`).join(', ')}`;
    await q.query(`
      CREATE FUNCTION satisfaction_rollups_daily_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          ${apply(delta('new_rows', ''))};
        ELSIF TG_OP = 'UPDATE' THEN
          ${apply(`${delta('new_rows', '')} UNION ALL ${delta('old_rows', '-')}`)};
        ELSE
          ${apply(delta('old_rows', '-'))};
        END IF;
        RETURN NULL;
      END
      $fn$`);
    await q.query(`
      CREATE TRIGGER satisfaction_rollups_daily_insert AFTER INSERT ON satisfaction_rollups
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION satisfaction_rollups_daily_apply()`);
    await q.query(`
      CREATE TRIGGER satisfaction_rollups_daily_update AFTER UPDATE ON satisfaction_rollups
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION satisfaction_rollups_daily_apply()`);
    await q.query(`
      CREATE TRIGGER satisfaction_rollups_daily_delete AFTER DELETE ON satisfaction_rollups
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION satisfaction_rollups_daily_apply()`);
  }
}
