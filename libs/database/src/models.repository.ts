import { DataSource, EntityManager } from 'typeorm';
import { LeasedQueue, claimSql, heartbeatSql } from './leased-queue';
import { rowsOf } from './sql';

export type ModelStatus = 'candidate' | 'production' | 'retired';

export interface ModelRow {
  id: string;
  projectId: string;
  version: number;
  kind: 'linear' | 'mlp';
  status: ModelStatus;
  statusReason: string | null;
  featureDim: number;
  policyId: string;
  preferenceSetId: string | null;
  metrics: Record<string, unknown>;
  evaluationSetId: string;
  createdAt: Date;
  promotedAt: Date | null;
}

export interface EvaluationSetRow {
  id: string;
  featureDim: number;
  pairs: number;
  featuresA: Float32Array;
  featuresB: Float32Array;
  outcome: Float32Array;
  weight: Float32Array;
}

export interface NewModel {
  /** Chosen by the caller (the trainer derives it from the model's content, so a reproduced run finds its entry). */
  id: string;
  projectId: string;
  kind: 'linear' | 'mlp';
  featureDim: number;
  policyId: string;
  preferenceSetId: string | null;
  metrics: unknown;
  evaluationSetId: string;
}

/** The parts of a model that carry its registry version (written once the version is known). */
export interface VersionedArtifacts {
  onnx: Uint8Array;
  card: unknown;
  cardMarkdown: string;
}

export interface TrainingJobRow {
  id: string;
  projectId: string;
  options: Record<string, unknown>;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: Record<string, unknown> | null;
  modelId: string | null;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** A job as a trainer claimed it: `attempts` counts the claims, this one included (it is the claim's token). */
export interface ClaimedJob extends TrainingJobRow {
  attempts: number;
}

const MODEL_COLUMNS = `id, project_id AS "projectId", version, kind, status, status_reason AS "statusReason",
  feature_dim AS "featureDim", policy_id AS "policyId", preference_set_id AS "preferenceSetId", metrics,
  evaluation_set_id AS "evaluationSetId", created_at AS "createdAt", promoted_at AS "promotedAt"`;

const JOB_QUEUE: LeasedQueue = { table: 'training_jobs', running: 'running' };
const JOB_COLUMNS = `id, project_id AS "projectId", options, status, progress, model_id AS "modelId", error,
  created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const floats = (b: Buffer) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

function evaluationSetOf(row: Record<string, unknown>): EvaluationSetRow {
  return {
    id: row.id as string, featureDim: row.feature_dim as number, pairs: row.pairs as number, featuresA: floats(row.features_a as Buffer),
    featuresB: floats(row.features_b as Buffer), outcome: floats(row.outcome as Buffer), weight: floats(row.weight as Buffer),
  };
}

/** The reward-model registry and the training job queue. */
export class ModelsRepository {
  constructor(private readonly db: DataSource) {}

  /** Stores frozen evaluation pairs; `head` makes it the set of one dimension head, next to an overall set. */
  async saveEvaluationSet(projectId: string, set: Omit<EvaluationSetRow, 'id'>, head?: { of: string; dimension: string }): Promise<string> {
    const [row] = await this.db.query(
      `INSERT INTO evaluation_sets (project_id, feature_dim, pairs, features_a, features_b, outcome, weight, head_of, dimension)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [projectId, set.featureDim, set.pairs, bytes(set.featuresA), bytes(set.featuresB), bytes(set.outcome), bytes(set.weight),
        head?.of ?? null, head?.dimension ?? null],
    );
    return row.id;
  }

  /** The per-head evaluation sets stored next to an overall set, by dimension name. */
  async headEvaluationSets(projectId: string, overallSetId: string): Promise<Array<EvaluationSetRow & { dimension: string }>> {
    const rows = await this.db.query(
      `SELECT id, feature_dim, pairs, features_a, features_b, outcome, weight, dimension FROM evaluation_sets
        WHERE project_id = $1 AND head_of = $2 ORDER BY dimension`,
      [projectId, overallSetId],
    );
    return rows.map((row: Record<string, unknown>) => ({ ...evaluationSetOf(row), dimension: row.dimension as string }));
  }

  async evaluationSet(projectId: string, id: string): Promise<EvaluationSetRow | null> {
    const [row] = await this.db.query(
      `SELECT id, feature_dim, pairs, features_a, features_b, outcome, weight FROM evaluation_sets WHERE project_id = $1 AND id = $2`,
      [projectId, id],
    );
    return row ? evaluationSetOf(row) : null;
  }

  /**
   * Inserts a candidate with the next version number of its project; `artifacts` writes the ONNX file and card for
   * that version (both carry it), inside the same lock.
   */
  async insert(model: NewModel, artifacts: (version: number) => VersionedArtifacts): Promise<ModelRow> {
    return this.db.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('reward_models:' || $1))`, [model.projectId]);
      const [{ next }] = await em.query(`SELECT coalesce(max(version), 0) + 1 AS next FROM reward_models WHERE project_id = $1`, [model.projectId]);
      const { onnx, card, cardMarkdown } = artifacts(next);
      const [row] = await em.query(
        `INSERT INTO reward_models (id, project_id, version, kind, feature_dim, policy_id, preference_set_id, onnx, card,
                                    card_markdown, metrics, evaluation_set_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         RETURNING ${MODEL_COLUMNS}`,
        [model.id, model.projectId, next, model.kind, model.featureDim, model.policyId, model.preferenceSetId, Buffer.from(onnx),
          JSON.stringify(card), cardMarkdown, JSON.stringify(model.metrics), model.evaluationSetId],
      );
      return row;
    });
  }

  /** Records a promotion decision with its statistics in the model's metrics and card. */
  async recordPromotion(projectId: string, id: string, promotion: unknown, card: unknown, cardMarkdown: string): Promise<void> {
    await this.db.query(
      `UPDATE reward_models SET metrics = metrics || jsonb_build_object('promotion', $3::jsonb), card = $4, card_markdown = $5
        WHERE project_id = $1 AND id = $2`,
      [projectId, id, JSON.stringify(promotion), JSON.stringify(card), cardMarkdown],
    );
  }

  async list(projectId: string): Promise<ModelRow[]> {
    return this.db.query(`SELECT ${MODEL_COLUMNS} FROM reward_models WHERE project_id = $1 ORDER BY version DESC`, [projectId]);
  }

  async find(projectId: string, id: string): Promise<ModelRow | null> {
    const rows = await this.db.query(`SELECT ${MODEL_COLUMNS} FROM reward_models WHERE project_id = $1 AND id = $2`, [projectId, id]);
    return rows[0] ?? null;
  }

  async card(projectId: string, id: string): Promise<{ card: unknown; markdown: string } | null> {
    const [row] = await this.db.query(`SELECT card, card_markdown FROM reward_models WHERE project_id = $1 AND id = $2`, [projectId, id]);
    return row ? { card: row.card, markdown: row.card_markdown } : null;
  }

  async onnx(projectId: string, id: string): Promise<Buffer | null> {
    const [row] = await this.db.query(`SELECT onnx FROM reward_models WHERE project_id = $1 AND id = $2`, [projectId, id]);
    return row?.onnx ?? null;
  }

  async production(projectId: string): Promise<ModelRow | null> {
    const rows = await this.db.query(`SELECT ${MODEL_COLUMNS} FROM reward_models WHERE project_id = $1 AND status = 'production'`, [projectId]);
    return rows[0] ?? null;
  }

  /** The production model id of each of these projects (absent: none), for the api's reload check. */
  async productionIds(projectIds: string[]): Promise<Map<string, string>> {
    const rows: { project_id: string; id: string }[] = await this.db.query(
      `SELECT project_id, id FROM reward_models WHERE status = 'production' AND project_id = ANY($1::uuid[])`,
      [projectIds],
    );
    return new Map(rows.map((r) => [r.project_id, r.id]));
  }

  /** Makes `id` the production model (the previous one is retired) atomically. */
  async promote(projectId: string, id: string, reason: string): Promise<ModelRow> {
    return this.db.transaction(async (em: EntityManager) => {
      await em.query(
        `UPDATE reward_models SET status = 'retired', status_reason = $3
          WHERE project_id = $1 AND status = 'production' AND id <> $2`,
        [projectId, id, `replaced by ${id}`],
      );
      const [row] = rowsOf<ModelRow>(await em.query(
        `UPDATE reward_models SET status = 'production', status_reason = $3, promoted_at = now()
          WHERE project_id = $1 AND id = $2 RETURNING ${MODEL_COLUMNS}`,
        [projectId, id, reason],
      ));
      return row;
    });
  }

  async setStatusReason(projectId: string, id: string, reason: string): Promise<void> {
    await this.db.query(`UPDATE reward_models SET status_reason = $3 WHERE project_id = $1 AND id = $2`, [projectId, id, reason]);
  }

  // ---- training jobs ----

  async enqueueJob(projectId: string, options: unknown): Promise<TrainingJobRow> {
    const [row] = await this.db.query(
      `INSERT INTO training_jobs (project_id, options) VALUES ($1, $2) RETURNING ${JOB_COLUMNS}`,
      [projectId, JSON.stringify(options)],
    );
    return row;
  }

  async job(projectId: string, id: string): Promise<TrainingJobRow | null> {
    const rows = await this.db.query(`SELECT ${JOB_COLUMNS} FROM training_jobs WHERE project_id = $1 AND id = $2`, [projectId, id]);
    return rows[0] ?? null;
  }

  /**
   * Claims the oldest job waiting for a trainer — queued, or running under a claim whose heartbeat is older than
   * `staleMs` (its trainer died) — as a new attempt. SKIP LOCKED: several trainers share the queue.
   */
  async claimJob(staleMs: number): Promise<ClaimedJob | null> {
    const rows = rowsOf<ClaimedJob>(await this.db.query(claimSql(JOB_QUEUE, `${JOB_COLUMNS}, attempts`, { set: 'started_at = now()' }), [staleMs]));
    return rows[0] ?? null;
  }

  /** Keeps `attempt`'s claim alive; false when it was lost (another trainer took the job over, or it ended). */
  async heartbeatJob(id: string, attempt: number): Promise<boolean> {
    return rowsOf(await this.db.query(heartbeatSql(JOB_QUEUE), [id, attempt])).length === 1;
  }

  /**
   * Gives `attempt`'s running job back to the queue (its failure was transient: a dependency was unavailable);
   * `error` says why it waits. False when `attempt` no longer holds it.
   */
  async requeueJob(id: string, error: string, attempt: number): Promise<boolean> {
    const rows = rowsOf(await this.db.query(
      `UPDATE training_jobs SET status = 'queued', error = $2, started_at = NULL, heartbeat_at = NULL
        WHERE id = $1 AND status = 'running' AND attempts = $3 RETURNING id`,
      [id, error, attempt],
    ));
    return rows.length === 1;
  }

  /**
   * Progress, or the end state, of `attempt`'s running job (a progress write also renews its lease); false, and
   * nothing written, when `attempt` no longer holds it (another trainer took it over).
   */
  async updateJob(
    id: string, attempt: number, patch: { progress?: unknown; status?: 'succeeded' | 'failed'; modelId?: string; error?: string },
  ): Promise<boolean> {
    const rows = rowsOf(await this.db.query(
      `UPDATE training_jobs SET
         progress = coalesce($2::jsonb, progress), status = coalesce($3, status), model_id = coalesce($4, model_id),
         error = CASE WHEN $3 = 'succeeded' THEN NULL ELSE coalesce($5, error) END,
         finished_at = CASE WHEN $3 IN ('succeeded', 'failed') THEN now() ELSE finished_at END,
         heartbeat_at = CASE WHEN $3 IN ('succeeded', 'failed') THEN NULL ELSE now() END
       WHERE id = $1 AND status = 'running' AND attempts = $6 RETURNING id`,
      [id, patch.progress === undefined ? null : JSON.stringify(patch.progress), patch.status ?? null, patch.modelId ?? null, patch.error ?? null, attempt],
    ));
    return rows.length === 1;
  }
}
