import { DataSource } from 'typeorm';

export interface VideoSummary {
  videoId: string;
  generation: {
    requestId: string; prompt: string; model: string; modelVersion: string; category: string | null;
    segment: string | null; durationMs: number | null; uri: string | null; createdAt: Date;
  } | null;
  events: number;
  viewers: number;
  signals: Record<string, number>;
}

/** Read-side queries of the api. Every query is scoped by project: a key never sees another project's rows. */
export class ReadRepository {
  constructor(private readonly db: DataSource) {}

  async video(projectId: string, videoId: string): Promise<VideoSummary | null> {
    const [generation] = await this.db.query(
      `SELECT request_id AS "requestId", prompt, model, model_version AS "modelVersion", category, segment,
              duration_ms AS "durationMs", uri, created_at AS "createdAt"
         FROM generations WHERE project_id = $1 AND video_id = $2`,
      [projectId, videoId],
    );
    const [counts] = await this.db.query(
      `SELECT count(*)::int AS viewers, coalesce(sum(event_count), 0)::int AS events,
              count(*) FILTER (WHERE liked)::int AS liked, count(*) FILTER (WHERE favorited)::int AS favorited,
              count(*) FILTER (WHERE shared)::int AS shared, count(*) FILTER (WHERE downloaded)::int AS downloaded,
              count(*) FILTER (WHERE exported)::int AS exported, count(*) FILTER (WHERE completed)::int AS completed,
              count(*) FILTER (WHERE chosen)::int AS chosen, count(*) FILTER (WHERE passed_over)::int AS "passedOver",
              count(*) FILTER (WHERE regenerated)::int AS regenerated, count(*) FILTER (WHERE discarded)::int AS discarded,
              count(*) FILTER (WHERE disliked)::int AS disliked, count(*) FILTER (WHERE reported)::int AS reported,
              count(rating)::int AS rated, avg(max_watch_ratio)::float8 AS "meanWatchRatio"
         FROM video_user_signals WHERE project_id = $1 AND video_id = $2`,
      [projectId, videoId],
    );
    if (!generation && counts.viewers === 0) return null;
    const { viewers, events, ...signals } = counts;
    return { videoId, generation: generation ?? null, events, viewers, signals };
  }

  /** Feature vectors of registered generations. */
  async features(projectId: string, videoIds: string[]): Promise<Map<string, number[]>> {
    const rows: { video_id: string; features: number[] }[] = await this.db.query(
      `SELECT video_id, features FROM generations WHERE project_id = $1 AND video_id = ANY($2::text[])`,
      [projectId, videoIds],
    );
    return new Map(rows.map((r) => [r.video_id, r.features]));
  }

  async eventCount(projectId: string): Promise<number> {
    const [row] = await this.db.query(`SELECT count(*)::int AS n FROM feedback_events WHERE project_id = $1`, [projectId]);
    return row.n;
  }
}
