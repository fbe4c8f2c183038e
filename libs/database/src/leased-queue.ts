/**
 * A table used as a work queue under leases (training jobs, preference-set builds, publications, deletions): a row
 * waits as 'queued'; a worker claims it as a new attempt (`attempts + 1`, status `running`, a heartbeat), keeps the
 * claim alive with heartbeats, and ends it only while it still holds it (same attempt, still running). A claim whose
 * heartbeat is older than `staleMs` was left by a worker that died and is taken over. SKIP LOCKED: several workers
 * share the queue without waiting on each other's claims.
 */
export interface LeasedQueue {
  table: string;
  /** The status of a claimed row ('running', 'building', 'publishing'). */
  running: string;
}

/**
 * Claims the oldest waiting row (`$1` = staleMs) as a new attempt, setting `set` as well, among the rows `where`
 * allows (its parameters from `$2`); returns `returning`.
 */
export function claimSql(q: LeasedQueue, returning: string, options: { set?: string; where?: string } = {}): string {
  return `UPDATE ${q.table} SET status = '${q.running}', attempts = attempts + 1, heartbeat_at = now()${options.set ? `, ${options.set}` : ''}
        WHERE id = (SELECT id FROM ${q.table}
                     WHERE ${options.where ? `(${options.where}) AND ` : ''}(status = 'queued' OR (status = '${q.running}' AND heartbeat_at < now() - $1 * interval '1 millisecond'))
                     ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING ${returning}`;
}

/** The condition that attempt `$2` of row `$1` still holds its claim. */
export function heldBy(q: LeasedQueue): string {
  return `id = $1 AND attempts = $2 AND status = '${q.running}'`;
}

/** Keeps the claim of attempt `$2` on row `$1` alive; returns the id when it still held it. */
export function heartbeatSql(q: LeasedQueue): string {
  return `UPDATE ${q.table} SET heartbeat_at = now() WHERE ${heldBy(q)} RETURNING id`;
}
