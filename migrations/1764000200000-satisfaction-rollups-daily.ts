import { MigrationInterface, QueryRunner } from 'typeorm';

const COUNTERS = [
  'viewers', 'impressions', 'plays', 'completions', 'likes', 'favorites', 'shares', 'downloads', 'exports', 'comments',
  'chosen', 'passed_over', 'regenerates', 'discards', 'dislikes', 'reports', 'rating_sum', 'rating_count', 'watch_n',
  'watch_sum', 'watch_sumsq', 'sat_sum', 'sat_sumsq',
];
const FLOAT_COUNTERS = new Set(['rating_sum', 'watch_sum', 'watch_sumsq', 'sat_sum', 'sat_sumsq']);
const KEYS = 'project_id, day, model, model_version, category, segment';

/**
 * Daily satisfaction rollups: the hourly rollups summed per UTC day, so a 30-day dashboard reads ~30 rows per
 * dimension combination instead of ~720 (at 10M events the hourly scan alone is ~150 ms; see bench:metrics).
 *
 * Kept by statement-level triggers on satisfaction_rollups, in the same transaction as the hourly change, so the
 * two can never disagree (invariant 2): each statement's (new − old) rows are summed per day and applied with one
 * upsert, in key order (concurrent batches lock daily rows in one order). Writers of the hourly table — the
 * ingest-worker, `flywheel metrics rebuild` — need no change. A day whose rows were all taken back keeps a row of
 * zeros; readers skip rows without viewers.
 */
export class SatisfactionRollupsDaily1764000200000 implements MigrationInterface {
  name = 'SatisfactionRollupsDaily1764000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE satisfaction_rollups_daily (
        project_id uuid NOT NULL,
        day timestamptz NOT NULL,
        model text NOT NULL,
        model_version text NOT NULL,
        category text NOT NULL,
        segment text NOT NULL,
        ${COUNTERS.map((c) => `${c} ${FLOAT_COUNTERS.has(c) ? 'double precision' : 'bigint'} NOT NULL DEFAULT 0`).join(',\n        ')},
        PRIMARY KEY (${KEYS})
      )`);
    await q.query(`CREATE INDEX satisfaction_rollups_daily_version_idx ON satisfaction_rollups_daily (project_id, model_version, day)`);

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
    // Transition tables allow one event per trigger; an INSERT … ON CONFLICT DO UPDATE fires the first two.
    await q.query(`
      CREATE TRIGGER satisfaction_rollups_daily_insert AFTER INSERT ON satisfaction_rollups
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION satisfaction_rollups_daily_apply()`);
    await q.query(`
      CREATE TRIGGER satisfaction_rollups_daily_update AFTER UPDATE ON satisfaction_rollups
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION satisfaction_rollups_daily_apply()`);
    await q.query(`
      CREATE TRIGGER satisfaction_rollups_daily_delete AFTER DELETE ON satisfaction_rollups
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION satisfaction_rollups_daily_apply()`);
    await q.query(apply(delta('satisfaction_rollups', '')));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER satisfaction_rollups_daily_delete ON satisfaction_rollups`);
    await q.query(`DROP TRIGGER satisfaction_rollups_daily_update ON satisfaction_rollups`);
    await q.query(`DROP TRIGGER satisfaction_rollups_daily_insert ON satisfaction_rollups`);
    await q.query(`DROP FUNCTION satisfaction_rollups_daily_apply()`);
    await q.query(`DROP TABLE satisfaction_rollups_daily`);
  }
}
