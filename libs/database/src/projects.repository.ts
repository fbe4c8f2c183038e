import { DataSource } from 'typeorm';
import { rowsOf } from './sql';

export type KeyKind = 'ingest' | 'secret';

/** A project's own token buckets (tokens per second, bucket size), overriding the api's defaults per key kind. */
export type ProjectRateLimits = Partial<Record<KeyKind, { perSecond: number; burst: number }>>;

export interface KeyOwner {
  keyId: string;
  projectId: string;
  kind: KeyKind;
  featureDim: number;
  /** The project's declared rating dimensions. */
  ratingDimensions: string[];
  /** Browser origins allowed on the ingest routes; null: the api's default. */
  allowedOrigins: string[] | null;
  rateLimits: ProjectRateLimits | null;
  projectDeleted: boolean;
  /** Set on the old key of a rotation: it stops working then. */
  expiresAt: Date | null;
}

export interface ProjectRow {
  id: string;
  name: string;
  featureDim: number;
  ratingDimensions: string[];
  createdAt: Date;
  allowedOrigins: string[] | null;
  rateLimits: ProjectRateLimits | null;
  deletedAt: Date | null;
  /** Days raw events are kept (null: forever); see EventPartitions. */
  eventRetentionDays: number | null;
}

export interface KeyRow {
  keyId: string;
  kind: KeyKind;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export interface ProjectSettings {
  allowedOrigins?: string[] | null;
  rateLimits?: ProjectRateLimits | null;
  /** Declared at creation only; default visual_quality, motion_quality, text_alignment (see the migration). */
  ratingDimensions?: readonly string[];
  /** Days raw events are kept; null: forever (the default). */
  eventRetentionDays?: number | null;
}

const PROJECT_COLUMNS = `id, name, feature_dim AS "featureDim", rating_dimensions AS "ratingDimensions", created_at AS "createdAt",
  allowed_origins AS "allowedOrigins", rate_limits AS "rateLimits", deleted_at AS "deletedAt", event_retention_days AS "eventRetentionDays"`;
const KEY_COLUMNS = `id AS "keyId", kind, key_prefix AS "prefix", created_at AS "createdAt", last_used_at AS "lastUsedAt",
  expires_at AS "expiresAt", revoked_at AS "revokedAt"`;
const ACTIVE_KEY = `revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`;

export class ProjectsRepository {
  constructor(private readonly db: DataSource) {}

  async create(name: string, featureDim: number, settings: ProjectSettings = {}): Promise<ProjectRow> {
    const [row] = await this.db.query(
      `INSERT INTO projects (name, feature_dim, allowed_origins, rate_limits, rating_dimensions, event_retention_days)
       VALUES ($1, $2, $3, $4, coalesce($5::text[], ARRAY['visual_quality', 'motion_quality', 'text_alignment']::text[]), $6)
       RETURNING ${PROJECT_COLUMNS}`,
      [name, featureDim, settings.allowedOrigins ?? null, settings.rateLimits ? JSON.stringify(settings.rateLimits) : null,
        settings.ratingDimensions ? [...settings.ratingDimensions] : null, settings.eventRetentionDays ?? null],
    );
    return row;
  }

  async find(projectId: string): Promise<ProjectRow | null> {
    const rows = await this.db.query(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE id = $1`, [projectId]);
    return rows[0] ?? null;
  }

  /** Live projects, oldest first (deleted ones too with `includeDeleted`). */
  async list(includeDeleted = false): Promise<ProjectRow[]> {
    return this.db.query(`SELECT ${PROJECT_COLUMNS} FROM projects ${includeDeleted ? '' : 'WHERE deleted_at IS NULL'} ORDER BY created_at`);
  }

  /** Changes the settings that are present (null resets one to the api's default); null if there is no live project. */
  async update(projectId: string, settings: ProjectSettings): Promise<ProjectRow | null> {
    const rows = rowsOf<ProjectRow>(await this.db.query(
      `UPDATE projects SET
         allowed_origins = CASE WHEN $2 THEN $3::text[] ELSE allowed_origins END,
         rate_limits = CASE WHEN $4 THEN $5::jsonb ELSE rate_limits END,
         event_retention_days = CASE WHEN $6 THEN $7::int ELSE event_retention_days END
       WHERE id = $1 AND deleted_at IS NULL RETURNING ${PROJECT_COLUMNS}`,
      [projectId, settings.allowedOrigins !== undefined, settings.allowedOrigins ?? null,
        settings.rateLimits !== undefined, settings.rateLimits ? JSON.stringify(settings.rateLimits) : null,
        settings.eventRetentionDays !== undefined, settings.eventRetentionDays ?? null],
    ));
    return rows[0] ?? null;
  }

  /** Marks a live project deleted: its keys are refused from then on. False if there was none. */
  async markDeleted(projectId: string): Promise<boolean> {
    const rows = rowsOf(await this.db.query(
      `UPDATE projects SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id`, [projectId],
    ));
    return rows.length > 0;
  }

  /** Every origin some live project allows on its ingest routes (a preflight carries no key to tell the project). */
  async allowedOrigins(): Promise<string[]> {
    const rows: { origin: string }[] = await this.db.query(
      `SELECT DISTINCT unnest(allowed_origins) AS origin FROM projects WHERE deleted_at IS NULL AND allowed_origins IS NOT NULL`,
    );
    return rows.map((r) => r.origin);
  }

  async listKeys(projectId: string): Promise<KeyRow[]> {
    return this.db.query(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE project_id = $1 ORDER BY created_at, id`, [projectId]);
  }

  /** Active secret keys of the project other than `exceptKeyId`. */
  async countOtherActiveSecretKeys(projectId: string, exceptKeyId: string): Promise<number> {
    const [row] = await this.db.query(
      `SELECT count(*)::int AS n FROM api_keys WHERE project_id = $1 AND id <> $2 AND kind = 'secret' AND ${ACTIVE_KEY}`,
      [projectId, exceptKeyId],
    );
    return row.n;
  }

  /**
   * Rotation, in one transaction: the active key `keyId` expires after `overlapSeconds` (so apps can roll out the new
   * key meanwhile) and a new key of the same kind is stored. `newKey` makes the key once the kind is known.
   */
  async rotateKey(
    projectId: string, keyId: string, overlapSeconds: number, newKey: (kind: KeyKind) => { hash: Buffer; prefix: string; key: string },
  ): Promise<{ old: KeyRow; created: KeyRow; key: string } | null> {
    return this.db.transaction(async (manager) => {
      const old = rowsOf<KeyRow>(await manager.query(
        `UPDATE api_keys SET expires_at = LEAST(COALESCE(expires_at, 'infinity'), now() + $3 * interval '1 second')
          WHERE project_id = $1 AND id = $2 AND ${ACTIVE_KEY} RETURNING ${KEY_COLUMNS}`,
        [projectId, keyId, overlapSeconds],
      ));
      if (!old.length) return null;
      const made = newKey(old[0].kind);
      const [created]: KeyRow[] = await manager.query(
        `INSERT INTO api_keys (project_id, kind, key_hash, key_prefix) VALUES ($1, $2, $3, $4) RETURNING ${KEY_COLUMNS}`,
        [projectId, old[0].kind, made.hash, made.prefix],
      );
      return { old: old[0], created, key: made.key };
    });
  }

  async addKey(projectId: string, kind: KeyKind, keyHash: Buffer, keyPrefix: string): Promise<string> {
    const [row] = await this.db.query(
      `INSERT INTO api_keys (project_id, kind, key_hash, key_prefix) VALUES ($1, $2, $3, $4) RETURNING id`,
      [projectId, kind, keyHash, keyPrefix],
    );
    return row.id;
  }

  /** The owner of an active key, recording the use (callers cache the answer, so this runs once per cache TTL). */
  async findKeyOwner(keyHash: Buffer): Promise<KeyOwner | null> {
    const rows = await this.db.query(
      `WITH k AS (
         UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND ${ACTIVE_KEY}
         RETURNING id, project_id, kind, expires_at)
       SELECT k.id AS "keyId", k.project_id AS "projectId", k.kind, k.expires_at AS "expiresAt", p.feature_dim AS "featureDim",
              p.allowed_origins AS "allowedOrigins", p.rate_limits AS "rateLimits", p.deleted_at IS NOT NULL AS "projectDeleted",
              p.rating_dimensions AS "ratingDimensions"
         FROM k JOIN projects p ON p.id = k.project_id`,
      [keyHash],
    );
    return rows[0] ?? null;
  }

  async revokeKey(projectId: string, keyId: string): Promise<boolean> {
    const rows = rowsOf(await this.db.query(
      `UPDATE api_keys SET revoked_at = now() WHERE project_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id`,
      [projectId, keyId],
    ));
    return rows.length > 0;
  }

  /** Feature dimension of each known project among `projectIds` (unknown ones are absent). */
  async featureDims(projectIds: string[]): Promise<Map<string, number>> {
    const rows: { id: string; featureDim: number }[] = await this.db.query(
      `SELECT id, feature_dim AS "featureDim" FROM projects WHERE id = ANY($1::uuid[])`,
      [projectIds],
    );
    return new Map(rows.map((r) => [r.id, r.featureDim]));
  }

  /** How many feedback events the project has stored. */
  async eventCount(projectId: string): Promise<number> {
    const [row] = await this.db.query(`SELECT count(*)::int AS n FROM feedback_events WHERE project_id = $1`, [projectId]);
    return row.n;
  }
}
