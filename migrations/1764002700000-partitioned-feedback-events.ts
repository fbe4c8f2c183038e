import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * feedback_events becomes a table partitioned by range of occurred_at (daily partitions, kept by the maintenance job
 * in libs/database `EventPartitions`), so retention drops whole partitions instead of deleting rows.
 *
 * No row is copied: today's table is renamed feedback_events_history and attached as the first partition, FROM
 * (MINVALUE) TO the UTC midnight after its newest event (and after now; a week ago if it is empty). Attaching reads
 * it once (the range check) and builds the new key's index on it; its rows stay where they are. Then daily
 * partitions to a week ahead, and a DEFAULT partition for an event no range holds (older than the oldest partition
 * once retention dropped some, or newer than the newest if the maintenance job stopped running): nothing is ever
 * refused for want of a partition.
 *
 * The deduplication key becomes (project_id, event_id, occurred_at): PostgreSQL requires a unique key of a
 * partitioned table to include the partition column. A retry carries the same occurredAt (the SDK stores the event
 * with its occurredAt and re-sends that body; Kafka redelivers the same message), so it hits the key. The history
 * partition keeps its old primary key (project_id, event_id) as well: its events stay deduplicated by id alone.
 * The ingest insert says ON CONFLICT DO NOTHING without a target, so either key counts.
 *
 * Secondary (non-unique) indexes of the old table, whoever added them, are carried over to the partitioned table
 * (the old table's own index is attached, not rebuilt), so every partition gets them.
 */
export class PartitionedFeedbackEvents1764002700000 implements MigrationInterface {
  name = 'PartitionedFeedbackEvents1764002700000';

  async up(q: QueryRunner): Promise<void> {
    const unique: { name: string }[] = await q.query(
      `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'feedback_events'::regclass AND i.indisunique AND NOT i.indisprimary`,
    );
    if (unique.length) {
      throw new Error(`feedback_events has unique indexes besides its primary key (${unique.map((u) => u.name).join(', ')}); a partitioned table's unique keys must include occurred_at`);
    }
    await q.query(`ALTER TABLE feedback_events RENAME TO feedback_events_history`);
    await q.query(`ALTER TABLE feedback_events_history RENAME CONSTRAINT feedback_events_pkey TO feedback_events_history_pkey`);
    await q.query(`
      CREATE TABLE feedback_events (LIKE feedback_events_history INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED)
        PARTITION BY RANGE (occurred_at)`);
    await q.query(`ALTER TABLE feedback_events ADD CONSTRAINT feedback_events_dedup_key UNIQUE (project_id, event_id, occurred_at)`);
    // Named on the history table first, so ATTACH adopts it as that partition's index of the key.
    await q.query(`ALTER TABLE feedback_events_history ADD CONSTRAINT feedback_events_history_dedup_key UNIQUE (project_id, event_id, occurred_at)`);

    const secondary: { name: string; def: string }[] = await q.query(
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'feedback_events_history'::regclass AND NOT i.indisunique`,
    );
    for (const index of secondary) {
      await q.query(`ALTER INDEX "${index.name}" RENAME TO "${historyIndexName(index.name)}"`);
      await q.query(index.def.replace(/ ON (public\.)?feedback_events_history /, ' ON feedback_events '));
    }

    // After the newest stored event (and now: today's events keep arriving there until midnight); an empty table
    // (a new installation) ends a week ago instead, so new events go to daily partitions from the start.
    const [{ bound }] = await q.query(
      `SELECT to_char(CASE WHEN count(*) = 0 THEN date_trunc('day', now(), 'UTC') - interval '168 hours'
                           ELSE date_trunc('day', greatest(now(), max(occurred_at)), 'UTC') + interval '24 hours' END
                      AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS bound
         FROM feedback_events_history`,
    );
    await q.query(`ALTER TABLE feedback_events ATTACH PARTITION feedback_events_history FOR VALUES FROM (MINVALUE) TO ('${bound}')`);
    await q.query(`CREATE TABLE feedback_events_default PARTITION OF feedback_events DEFAULT`);
    const start = Date.parse(bound);
    const days = Math.max(7, Math.ceil((Date.now() - start) / 86_400_000) + 7);
    for (let day = 0; day < days; day++) {
      const from = new Date(start + day * 86_400_000).toISOString();
      const to = new Date(start + (day + 1) * 86_400_000).toISOString();
      await q.query(`CREATE TABLE feedback_events_p${from.slice(0, 10).replace(/-/g, '')} PARTITION OF feedback_events FOR VALUES FROM ('${from}') TO ('${to}')`);
    }
  }

  /**
   * Back to one table: the history table is detached and every other partition's rows are copied into it (an event
   * stored twice under one eventId with two occurredAt values keeps the first copy only: the old key forbids two).
   */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE feedback_events DETACH PARTITION feedback_events_history`);
    await q.query(`INSERT INTO feedback_events_history SELECT * FROM feedback_events ORDER BY received_at ON CONFLICT DO NOTHING`);
    await q.query(`DROP TABLE feedback_events`);
    await q.query(`ALTER TABLE feedback_events_history DROP CONSTRAINT feedback_events_history_dedup_key`);
    await q.query(`ALTER TABLE feedback_events_history RENAME TO feedback_events`);
    await q.query(`ALTER TABLE feedback_events RENAME CONSTRAINT feedback_events_history_pkey TO feedback_events_pkey`);
    const renamed: { name: string }[] = await q.query(
      `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'feedback_events'::regclass AND NOT i.indisunique AND c.relname LIKE '%\\_history'`,
    );
    for (const index of renamed) await q.query(`ALTER INDEX "${index.name}" RENAME TO "${index.name.replace(/_history$/, '')}"`);
  }
}

function historyIndexName(name: string): string {
  return `${name.slice(0, 63 - '_history'.length)}_history`;
}

