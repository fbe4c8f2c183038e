/*
 * `--events-table daily|weekly|unpartitioned`: the shape of feedback_events the run measures, set up before the apps
 * start. daily is the schema as migrated; unpartitioned is the table as it was before the migration
 * PartitionedFeedbackEvents (its own down(), so the baseline is exactly the old table and key); weekly drops the
 * (empty) daily partitions and lets the maintenance create weekly ones.
 */
import { Client } from 'pg';
import { FlywheelConfig } from '@flywheel/config';
import { EventPartitions, createDataSource } from '@flywheel/database';
import { PartitionedFeedbackEvents1764002700000 } from '../../../migrations/1764002700000-partitioned-feedback-events';

export const EVENTS_TABLES = ['daily', 'weekly', 'unpartitioned'] as const;
export type EventsTable = (typeof EVENTS_TABLES)[number];

export async function shapeEventsTable(pg: Client, config: FlywheelConfig['database'], shape: EventsTable): Promise<void> {
  if (shape === 'daily') return;
  if (shape === 'unpartitioned') {
    const runner = { query: async (sql: string) => (await pg.query(sql)).rows };
    await new PartitionedFeedbackEvents1764002700000().down(runner as unknown as Parameters<PartitionedFeedbackEvents1764002700000['down']>[0]);
    return;
  }
  const daily = await pg.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                                  WHERE i.inhparent = 'feedback_events'::regclass AND c.relname ~ '^feedback_events_p[0-9]{8}$'`);
  for (const { relname } of daily.rows) await pg.query(`DROP TABLE ${relname}`);
  const db = createDataSource(config, { poolSize: 1 });
  await db.initialize();
  try {
    await new EventPartitions(db).maintain(new Date(), { period: 'week', aheadDays: 7 });
  } finally {
    await db.destroy();
  }
}
