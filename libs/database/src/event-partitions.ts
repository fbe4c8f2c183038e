import { DataSource, QueryRunner } from 'typeorm';

/**
 * The time partitions of feedback_events (range of occurred_at; see the migration PartitionedFeedbackEvents) and
 * their maintenance: partitions are created ahead of time, and raw events expire by each project's retention.
 *
 * Partitions are shared by all projects, so retention works at two levels:
 * - the horizon H is the longest retention of any live project (none when some project keeps its events forever,
 *   the default): a partition whose whole range is older than H days (its upper bound at or before UTC midnight of
 *   now − H days) is detached and dropped — no row is deleted one by one, no WAL per row;
 * - a project whose retention R is shorter than H has its older rows deleted by range (DELETE … WHERE project_id = $1
 *   AND occurred_at < midnight of now − R days): that costs a row-by-row delete, so giving every project the same
 *   retention keeps expiry free.
 * Rows in the DEFAULT partition (late events older than the oldest partition, whose range retention already dropped)
 * are deleted by range for every project whose retention they exceed. Signal rows, rollups and models stay.
 */
export type PartitionPeriod = 'day' | 'week';

export interface EventPartition {
  name: string;
  /** null: MINVALUE (the history partition) or the DEFAULT partition. */
  from: Date | null;
  to: Date | null;
  isDefault: boolean;
}

export interface PartitionMaintenanceOptions {
  period: PartitionPeriod;
  /** Partitions exist up to at least now + this many days (the contract takes occurredAt up to now + 1 day). */
  aheadDays: number;
  /** A step waits at most this long for a table lock (ingest transactions hold theirs briefly), then the run stops. */
  lockTimeoutMs?: number;
}

export interface PartitionMaintenanceReport {
  /** False when another process held the maintenance lock (nothing was done). */
  ran: boolean;
  created: string[];
  /** Rows moved out of the DEFAULT partition into a partition created for their range. */
  movedFromDefault: number;
  dropped: string[];
  /** Rows deleted by range, per project (only projects where some were). */
  deleted: { projectId: string; rows: number; before: string }[];
  /** Longest retention of the live projects in days; null: some project keeps its events forever (or none exists). */
  horizonDays: number | null;
}

export const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** 1970-01-05, a Monday: weeks start on Monday 00:00 UTC (as date_trunc('week') has it). */
const MONDAY_MS = 4 * DAY_MS;
const MAINTENANCE_LOCK = 0x66770010;

/** Start of the UTC day or (Monday-based) week holding `ms`. */
export function periodStart(ms: number, period: PartitionPeriod): number {
  if (period === 'day') return Math.floor(ms / DAY_MS) * DAY_MS;
  return Math.floor((ms - MONDAY_MS) / WEEK_MS) * WEEK_MS + MONDAY_MS;
}

function periodEnd(ms: number, period: PartitionPeriod): number {
  return periodStart(ms, period) + (period === 'day' ? DAY_MS : WEEK_MS);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** feedback_events_p20261130: the partition starting that UTC day (ranges never overlap, so starts are unique). */
export function partitionName(fromMs: number): string {
  return `feedback_events_p${iso(fromMs).slice(0, 10).replace(/-/g, '')}`;
}

export class EventPartitions {
  constructor(private readonly db: DataSource) {}

  /** The partitions, oldest first; the DEFAULT partition last. */
  list(): Promise<EventPartition[]> {
    return listPartitions(this.db);
  }

  /**
   * One maintenance run at time `now` (injected, so a test can run a month of synthetic days): creates the missing
   * partitions up to now + aheadDays (moving any rows the DEFAULT partition holds for their ranges into them), then
   * applies retention. Several trainers may run it: a session advisory lock lets one at a time do the work.
   */
  async maintain(now: Date, options: PartitionMaintenanceOptions): Promise<PartitionMaintenanceReport> {
    const report: PartitionMaintenanceReport = { ran: false, created: [], movedFromDefault: 0, dropped: [], deleted: [], horizonDays: null };
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = await runner.query(`SELECT pg_try_advisory_lock($1) AS locked`, [MAINTENANCE_LOCK]);
      if (!locked) return report;
      try {
        report.ran = true;
        await this.createAhead(runner, now.getTime(), options, report);
        await this.expire(runner, now.getTime(), options, report);
      } finally {
        await runner.query(`SELECT pg_advisory_unlock($1)`, [MAINTENANCE_LOCK]);
      }
      return report;
    } finally {
      await runner.release();
    }
  }

  private async createAhead(runner: QueryRunner, now: number, options: PartitionMaintenanceOptions, report: PartitionMaintenanceReport): Promise<void> {
    const partitions = await listPartitions(runner);
    const ranged = partitions.filter((p) => p.to !== null);
    const defaultPartition = partitions.find((p) => p.isDefault)?.name ?? null;
    let cursor = ranged.length ? Math.max(...ranged.map((p) => p.to!.getTime())) : periodStart(now, options.period);
    const until = now + options.aheadDays * DAY_MS;
    while (cursor < until) {
      const from = cursor;
      const to = periodEnd(cursor, options.period);
      const name = partitionName(from);
      await this.inTransaction(runner, options, async () => {
        await runner.query(`CREATE TABLE ${name} (LIKE feedback_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED)`);
        if (defaultPartition) {
          // Only when the job had stopped for longer than aheadDays: rows of this range waited in DEFAULT.
          const [{ n }] = await runner.query(
            `WITH moved AS (DELETE FROM ${defaultPartition} WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *),
                  copied AS (INSERT INTO ${name} SELECT * FROM moved RETURNING 1)
             SELECT count(*)::int AS n FROM copied`,
            [iso(from), iso(to)],
          );
          report.movedFromDefault += n;
        }
        // ATTACH takes a SHARE UPDATE EXCLUSIVE lock on feedback_events: ingest goes on meanwhile.
        await runner.query(`ALTER TABLE feedback_events ATTACH PARTITION ${name} FOR VALUES FROM ('${iso(from)}') TO ('${iso(to)}')`);
      });
      report.created.push(name);
      cursor = to;
    }
  }

  private async expire(runner: QueryRunner, now: number, options: PartitionMaintenanceOptions, report: PartitionMaintenanceReport): Promise<void> {
    const projects: { id: string; days: number | null }[] = await runner.query(
      `SELECT id, event_retention_days AS days FROM projects WHERE deleted_at IS NULL`,
    );
    if (projects.length === 0 || projects.some((p) => p.days === null)) return;
    const horizon = Math.max(...projects.map((p) => p.days!));
    report.horizonDays = horizon;
    const cutoff = (days: number) => periodStart(now - days * DAY_MS, 'day');

    // Whole partitions older than every project's retention.
    const horizonCutoff = cutoff(horizon);
    const partitions = await listPartitions(runner);
    for (const partition of partitions) {
      if (partition.to === null || partition.to.getTime() > horizonCutoff) continue;
      await this.inTransaction(runner, options, async () => {
        // The projects with rows in it (a skip scan of its key's index, one probe per project), for the rebuild guard.
        await runner.query(
          `WITH RECURSIVE p AS (
             (SELECT project_id FROM ${partition.name} ORDER BY project_id LIMIT 1)
             UNION ALL
             SELECT (SELECT project_id FROM ${partition.name} WHERE project_id > p.project_id ORDER BY project_id LIMIT 1)
               FROM p WHERE p.project_id IS NOT NULL)
           UPDATE projects SET events_pruned_before = greatest(coalesce(events_pruned_before, '-infinity'), $1::timestamptz)
            WHERE id IN (SELECT project_id FROM p WHERE project_id IS NOT NULL)`,
          [partition.to!.toISOString()],
        );
        await runner.query(`ALTER TABLE feedback_events DETACH PARTITION ${partition.name}`);
        await runner.query(`DROP TABLE ${partition.name}`);
      });
      report.dropped.push(partition.name);
    }

    // Row by row: projects with a shorter retention than the horizon, and late events in DEFAULT.
    const defaultPartition = partitions.find((p) => p.isDefault)?.name ?? null;
    for (const project of projects) {
      const before = iso(cutoff(project.days!));
      const table = project.days! < horizon ? 'feedback_events' : defaultPartition;
      if (!table) continue;
      const rows = await this.inTransaction(runner, options, async () => {
        const deleted = affected(await runner.query(`DELETE FROM ${table} WHERE project_id = $1 AND occurred_at < $2`, [project.id, before]));
        if (deleted > 0) {
          await runner.query(
            `UPDATE projects SET events_pruned_before = greatest(coalesce(events_pruned_before, '-infinity'), $2::timestamptz) WHERE id = $1`,
            [project.id, before],
          );
        }
        return deleted;
      });
      if (rows > 0) report.deleted.push({ projectId: project.id, rows, before });
    }
  }

  private async inTransaction<T>(runner: QueryRunner, options: PartitionMaintenanceOptions, work: () => Promise<T>): Promise<T> {
    await runner.startTransaction();
    try {
      await runner.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs ?? 5000))}`);
      const result = await work();
      await runner.commitTransaction();
      return result;
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    }
  }
}

/** TypeORM answers DELETE with [rows, rowCount]. */
function affected(result: unknown): number {
  return Array.isArray(result) && result.length === 2 && typeof result[1] === 'number' ? result[1] : 0;
}

async function listPartitions(db: { query: (sql: string) => Promise<unknown> }): Promise<EventPartition[]> {
  const rows = await db.query(
    `SELECT c.relname AS name, b.bound = 'DEFAULT' AS "isDefault",
            (regexp_match(b.bound, 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz AS "from",
            (regexp_match(b.bound, 'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS "to"
       FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) b
      WHERE i.inhparent = 'feedback_events'::regclass
      ORDER BY "isDefault", "to" NULLS FIRST`,
  ) as EventPartition[];
  return rows;
}
