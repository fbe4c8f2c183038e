import { DataSource } from 'typeorm';

/** Policy versions and the watch-ratio quantiles learned per project. */
export class SatisfactionRepository {
  constructor(private readonly db: DataSource) {}

  async ensurePolicies(policies: { id: string; params: unknown }[]): Promise<void> {
    if (policies.length === 0) return;
    await this.db.query(
      `INSERT INTO satisfaction_policies (id, params)
       SELECT * FROM unnest($1::text[], $2::jsonb[]) ON CONFLICT (id) DO NOTHING`,
      [policies.map((p) => p.id), policies.map((p) => JSON.stringify(p.params))],
    );
  }

  async policies(): Promise<{ id: string; params: unknown; createdAt: Date }[]> {
    return this.db.query(`SELECT id, params, created_at AS "createdAt" FROM satisfaction_policies ORDER BY created_at`);
  }

  async quantiles(projectIds: string[], policyId: string): Promise<Map<string, unknown>> {
    const rows: { project_id: string; quantiles: unknown }[] = await this.db.query(
      `SELECT project_id, quantiles FROM watch_quantiles WHERE policy_id = $1 AND project_id = ANY($2::uuid[])`,
      [policyId, projectIds],
    );
    return new Map(rows.map((r) => [r.project_id, r.quantiles]));
  }

  /** Where a project's watch quantiles come from, for manifests: learned (from how many rows, when) or the defaults. */
  async quantilesProvenance(projectId: string, policyId: string): Promise<{ source: 'learned' | 'default'; learnedFrom?: number; updatedAt?: Date }> {
    const [row] = await this.db.query(
      `SELECT learned_from, updated_at FROM watch_quantiles WHERE project_id = $1 AND policy_id = $2`,
      [projectId, policyId],
    );
    return row ? { source: 'learned', learnedFrom: Number(row.learned_from), updatedAt: row.updated_at } : { source: 'default' };
  }

  async saveQuantiles(projectId: string, policyId: string, quantiles: unknown, learnedFrom: number): Promise<void> {
    await this.db.query(
      `INSERT INTO watch_quantiles (project_id, policy_id, quantiles, learned_from) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project_id, policy_id) DO UPDATE SET quantiles = excluded.quantiles,
         learned_from = excluded.learned_from, updated_at = now()`,
      [projectId, policyId, JSON.stringify(quantiles), learnedFrom],
    );
  }

  /** Per (video, user) watch evidence of a project, to learn its quantiles from. */
  async watchSamples(projectId: string): Promise<{ durationMs: number | null; maxWatchRatio: number | null; completed: boolean }[]> {
    const rows: { d: number | null; r: number | null; c: boolean }[] = await this.db.query(
      `SELECT duration_ms AS d, max_watch_ratio AS r, completed AS c FROM video_user_signals
        WHERE project_id = $1 AND (max_watch_ratio IS NOT NULL OR completed)`,
      [projectId],
    );
    return rows.map((row) => ({
      durationMs: row.d === null ? null : Number(row.d), maxWatchRatio: row.r === null ? null : Number(row.r), completed: row.c,
    }));
  }
}
