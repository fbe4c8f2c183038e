import { DataSource } from 'typeorm';
import { LeasedQueue, claimSql, heartbeatSql, heldBy } from './leased-queue';
import { rowsOf } from './sql';

/** One publication of a preference set to Kafka: queued → publishing (a trainer holds it) → done, or failed. */
export interface PublicationRow {
  id: string;
  setId: string;
  topic: string;
  status: 'queued' | 'publishing' | 'done' | 'failed';
  /** Messages Kafka acknowledged so far; when done, all of them (pairs, rankings and the completion marker). */
  messages: number;
  /** Claims so far (a trainer that died mid-publication leaves one behind). */
  attempts: number;
  /** The last pair and ranking seq Kafka acknowledged (-1: none yet): a resumed publication continues after them. */
  pairSeqAcked: number;
  rankingSeqAcked: number;
  error: string | null;
  createdAt: Date;
  publishedAt: Date | null;
}

/** A publication claimed by a trainer: `attempts` numbers this claim, and every write is checked against it. */
export type ClaimedPublication = PublicationRow;

export interface PublicationProgress {
  pairSeqAcked: number;
  rankingSeqAcked: number;
  messages: number;
}

const QUEUE: LeasedQueue = { table: 'preference_publications', running: 'publishing' };
const COLUMNS = `id, set_id AS "setId", topic, status, messages, attempts, pair_seq_acked AS "pairSeqAcked",
  ranking_seq_acked AS "rankingSeqAcked", error, created_at AS "createdAt", published_at AS "publishedAt"`;

/**
 * The publication queue (see PreferencePublicationQueue1764001700000): requested by the api, claimed with SKIP
 * LOCKED by trainers under a lease they renew, resumed from the last acknowledged batch.
 */
export class PreferencePublicationsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Asks for the set to be published: the unfinished publication if there is one (a failed one is queued again and
   * keeps its progress), otherwise a new one that starts from the first message. The set's row lock serialises
   * concurrent requests.
   */
  async request(setId: string, topic: string): Promise<PublicationRow> {
    return this.db.transaction(async (em) => {
      await em.query(`SELECT id FROM preference_sets WHERE id = $1 FOR UPDATE`, [setId]);
      const [open] = rowsOf<PublicationRow>(await em.query(
        `SELECT ${COLUMNS} FROM preference_publications WHERE set_id = $1 AND status IN ('queued', 'publishing', 'failed')`, [setId]));
      if (open?.status === 'failed') {
        return rowsOf<PublicationRow>(await em.query(
          `UPDATE preference_publications SET status = 'queued', attempts = 0, heartbeat_at = NULL WHERE id = $1 RETURNING ${COLUMNS}`,
          [open.id]))[0];
      }
      if (open) return open;
      return rowsOf<PublicationRow>(await em.query(
        `INSERT INTO preference_publications (set_id, topic) VALUES ($1, $2) RETURNING ${COLUMNS}`, [setId, topic]))[0];
    });
  }

  /**
   * Claims the oldest publication waiting for a trainer — queued, or publishing under a claim whose heartbeat is
   * older than `staleMs` (its trainer died) — as a new attempt.
   */
  async claim(staleMs: number): Promise<ClaimedPublication | null> {
    const rows = rowsOf<ClaimedPublication>(await this.db.query(claimSql(QUEUE, COLUMNS), [staleMs]));
    return rows[0] ?? null;
  }

  /** Keeps a claim alive; false when it was lost (another trainer took the publication over, or it ended). */
  async heartbeat(id: string, attempt: number): Promise<boolean> {
    return this.held(heartbeatSql(QUEUE), [id, attempt]);
  }

  /** Records what Kafka acknowledged (and renews the lease); false when `attempt` no longer holds the publication. */
  async recordProgress(id: string, attempt: number, progress: PublicationProgress): Promise<boolean> {
    return this.held(
      `UPDATE preference_publications SET pair_seq_acked = $3, ranking_seq_acked = $4, messages = $5, heartbeat_at = now()
        WHERE ${heldBy(QUEUE)} RETURNING id`,
      [id, attempt, progress.pairSeqAcked, progress.rankingSeqAcked, progress.messages],
    );
  }

  async finish(id: string, attempt: number, messages: number): Promise<boolean> {
    return this.held(
      `UPDATE preference_publications SET status = 'done', messages = $3, published_at = now(), heartbeat_at = NULL, error = NULL
        WHERE ${heldBy(QUEUE)} RETURNING id`,
      [id, attempt, messages],
    );
  }

  /** Gives the publication back to the queue after a failure (`error` says why), keeping its progress. */
  async release(id: string, attempt: number, error: string): Promise<boolean> {
    return this.held(
      `UPDATE preference_publications SET status = 'queued', error = $3, heartbeat_at = NULL
        WHERE ${heldBy(QUEUE)} RETURNING id`,
      [id, attempt, error],
    );
  }

  /** Stops retrying; a new request queues it again, from where it got to. */
  async fail(id: string, attempt: number, error: string): Promise<boolean> {
    return this.held(
      `UPDATE preference_publications SET status = 'failed', error = $3, heartbeat_at = NULL
        WHERE ${heldBy(QUEUE)} RETURNING id`,
      [id, attempt, error],
    );
  }

  async find(setId: string, id: string): Promise<PublicationRow | null> {
    const rows = rowsOf<PublicationRow>(await this.db.query(`SELECT ${COLUMNS} FROM preference_publications WHERE set_id = $1 AND id = $2`, [setId, id]));
    return rows[0] ?? null;
  }

  /** The set's publications, newest first. */
  async list(setId: string): Promise<PublicationRow[]> {
    return rowsOf<PublicationRow>(await this.db.query(`SELECT ${COLUMNS} FROM preference_publications WHERE set_id = $1 ORDER BY created_at DESC`, [setId]));
  }

  private async held(sql: string, params: unknown[]): Promise<boolean> {
    return rowsOf(await this.db.query(sql, params)).length === 1;
  }
}
