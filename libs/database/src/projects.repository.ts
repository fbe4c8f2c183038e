import { DataSource } from 'typeorm';
import { rowsOf } from './sql';

export type KeyKind = 'ingest' | 'secret';

export interface KeyOwner {
  keyId: string;
  projectId: string;
  kind: KeyKind;
  featureDim: number;
}

export interface ProjectRow {
  id: string;
  name: string;
  featureDim: number;
  createdAt: Date;
}

export class ProjectsRepository {
  constructor(private readonly db: DataSource) {}

  async create(name: string, featureDim: number): Promise<ProjectRow> {
    const [row] = await this.db.query(
      `INSERT INTO projects (name, feature_dim) VALUES ($1, $2)
       RETURNING id, name, feature_dim AS "featureDim", created_at AS "createdAt"`,
      [name, featureDim],
    );
    return row;
  }

  async find(projectId: string): Promise<ProjectRow | null> {
    const rows = await this.db.query(
      `SELECT id, name, feature_dim AS "featureDim", created_at AS "createdAt" FROM projects WHERE id = $1`,
      [projectId],
    );
    return rows[0] ?? null;
  }

  async list(): Promise<ProjectRow[]> {
    return this.db.query(`SELECT id, name, feature_dim AS "featureDim", created_at AS "createdAt" FROM projects ORDER BY created_at`);
  }

  async addKey(projectId: string, kind: KeyKind, keyHash: Buffer, keyPrefix: string): Promise<string> {
    const [row] = await this.db.query(
      `INSERT INTO api_keys (project_id, kind, key_hash, key_prefix) VALUES ($1, $2, $3, $4) RETURNING id`,
      [projectId, kind, keyHash, keyPrefix],
    );
    return row.id;
  }

  async findKeyOwner(keyHash: Buffer): Promise<KeyOwner | null> {
    const rows = await this.db.query(
      `SELECT k.id AS "keyId", k.project_id AS "projectId", k.kind, p.feature_dim AS "featureDim"
         FROM api_keys k JOIN projects p ON p.id = k.project_id
        WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
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
}
