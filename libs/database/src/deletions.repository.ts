import { DataSource } from 'typeorm';
import { IngestTransaction } from './ingest.repository';
import { LeasedQueue, claimSql, heartbeatSql, heldBy } from './leased-queue';
import { rowsOf } from './sql';

/** A deletion job, which is also its audit record (see DataDeletion1764002600000). Never holds a raw user id. */
export interface DeletionRow {
  id: string;
  projectId: string;
  kind: 'user' | 'project';
  /** The HMAC'd user id (kind `user`). */
  userHash: string | null;
  /** `key:<api key id>` or `admin`. */
  requestedBy: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  result: Record<string, unknown> | null;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

const QUEUE: LeasedQueue = { table: 'data_deletions', running: 'running' };
const COLUMNS = `id, project_id AS "projectId", kind, user_hash AS "userHash", requested_by AS "requestedBy", status, attempts,
  result, error, created_at AS "createdAt", finished_at AS "finishedAt"`;

/**
 * Tables a project purge leaves: the project row and its keys (so they keep answering 410 PROJECT_DELETED), and the
 * deletion records (the audit). Every other table with a `project_id` column is emptied of the project's rows, so a
 * table added later is covered without touching this code; tables keyed by a set (pairs, rankings, publications)
 * go with their preference set (ON DELETE CASCADE).
 */
const KEPT_ON_PURGE = new Set(['projects', 'api_keys', 'data_deletions']);
/** Referencing tables first (training_jobs.model_id → reward_models). */
const PURGE_FIRST = ['training_jobs'];

export class DeletionsRepository {
  constructor(private readonly db: DataSource) {}

  /** Queues the deletion of a user's data in a project. */
  async requestUser(projectId: string, userHash: string, requestedBy: string): Promise<DeletionRow> {
    const [row] = await this.db.query(
      `INSERT INTO data_deletions (project_id, kind, user_hash, requested_by) VALUES ($1, 'user', $2, $3) RETURNING ${COLUMNS}`,
      [projectId, userHash, requestedBy],
    );
    return row;
  }

  /**
   * Deletes a project and queues the purge of its data, in one transaction that first waits for the ingest batches
   * of the project in flight (DELETION_LOCK): every batch after it finds the project deleted and dead-letters its
   * messages. A project deleted already answers its existing purge (or a new one, for one deleted before purges
   * existed); null when there is no such project.
   */
  async requestProject(projectId: string, requestedBy: string): Promise<{ deletion: DeletionRow; created: boolean } | null> {
    return this.db.transaction(async (em) => {
      const [project] = await em.query(`SELECT id FROM projects WHERE id = $1 FOR UPDATE`, [projectId]);
      if (!project) return null;
      await new IngestTransaction(em).lockProjects('exclusive', [projectId]);
      await em.query(`UPDATE projects SET deleted_at = coalesce(deleted_at, now()) WHERE id = $1`, [projectId]);
      const [existing] = await em.query(
        `SELECT ${COLUMNS} FROM data_deletions WHERE project_id = $1 AND kind = 'project' ORDER BY created_at DESC LIMIT 1`, [projectId],
      );
      if (existing) return { deletion: existing, created: false };
      const [row] = await em.query(
        `INSERT INTO data_deletions (project_id, kind, requested_by) VALUES ($1, 'project', $2) RETURNING ${COLUMNS}`,
        [projectId, requestedBy],
      );
      return { deletion: row, created: true };
    });
  }

  async find(id: string, projectId?: string): Promise<DeletionRow | null> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM data_deletions WHERE id = $1 AND ($2::uuid IS NULL OR project_id = $2)`, [id, projectId ?? null],
    );
    return rows[0] ?? null;
  }

  /** The project's deletions, newest first: the audit trail. */
  async list(projectId: string, limit = 100): Promise<DeletionRow[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM data_deletions WHERE project_id = $1 ORDER BY created_at DESC LIMIT $2`, [projectId, limit]);
  }

  /**
   * Claims a job as a new attempt: `id`, or else the oldest queued one, or one whose holder's heartbeat is older than
   * `staleMs` (it died; every step of a deletion is idempotent, so running it again is safe). SKIP LOCKED.
   */
  async claim(staleMs: number, id?: string): Promise<DeletionRow | null> {
    const rows = rowsOf<DeletionRow>(await this.db.query(claimSql(QUEUE, COLUMNS, { where: '$2::uuid IS NULL OR id = $2' }), [staleMs, id ?? null]));
    return rows[0] ?? null;
  }

  async heartbeat(id: string, attempt: number): Promise<void> {
    await this.db.query(heartbeatSql(QUEUE), [id, attempt]);
  }

  async finish(id: string, attempt: number, result: unknown): Promise<void> {
    await this.db.query(
      `UPDATE data_deletions SET status = 'done', result = $3, error = NULL, finished_at = now(), heartbeat_at = NULL WHERE ${heldBy(QUEUE)}`,
      [id, attempt, JSON.stringify(result)],
    );
  }

  async fail(id: string, attempt: number, error: string): Promise<void> {
    await this.db.query(
      `UPDATE data_deletions SET status = 'failed', error = $3, finished_at = now(), heartbeat_at = NULL WHERE ${heldBy(QUEUE)}`,
      [id, attempt, error],
    );
  }

  /**
   * Removes every row of a deleted project (see KEPT_ON_PURGE), one table per transaction so a huge project does not
   * hold one transaction open; running it again continues where it stopped. Returns the rows removed per table.
   */
  async purgeProject(projectId: string): Promise<Record<string, number>> {
    const [project] = await this.db.query(`SELECT deleted_at FROM projects WHERE id = $1`, [projectId]);
    if (!project?.deleted_at) throw new Error(`project ${projectId} is not deleted; refusing to purge it`);
    const tables: { table: string }[] = await this.db.query(
      `SELECT c.relname AS table FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE a.attname = 'project_id' AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname = current_schema()
        ORDER BY c.relname`,
    );
    const names = tables.map((t) => t.table).filter((t) => !KEPT_ON_PURGE.has(t));
    const ordered = [...PURGE_FIRST.filter((t) => names.includes(t)), ...names.filter((t) => !PURGE_FIRST.includes(t))];
    const removed: Record<string, number> = {};
    for (const table of ordered) {
      const rows = await this.db.query(
        `WITH gone AS (DELETE FROM "${table.replace(/"/g, '')}" WHERE project_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
        [projectId],
      );
      removed[table] = rows[0].n;
    }
    await this.db.query(`UPDATE projects SET purged_at = now() WHERE id = $1`, [projectId]);
    return removed;
  }
}
