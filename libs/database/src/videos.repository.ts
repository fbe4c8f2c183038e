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
  /** Users' current satisfaction scores on the video (policy of each row), overall. */
  satisfaction: { n: number; mean: number | null };
  /**
   * Per rated dimension: how many users rated it, their mean rating 1–5, and the mean dimension satisfaction
   * (rating − 3) / 2 ∈ [−1, 1]. `overall` is the overall rating (a rate event without dimension).
   */
  ratings: Record<string, { n: number; meanRating: number; satisfaction: number }>;
}

/** What the api reads about videos: their generation, users' signals on them, their features. Every query is scoped by
 * project: a key never sees another project's rows. */
export class VideosRepository {
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
              count(*) FILTER (WHERE rating IS NOT NULL OR dimension_ratings <> '{}'::jsonb)::int AS rated,
              avg(max_watch_ratio)::float8 AS "meanWatchRatio",
              count(satisfaction)::int AS "satisfactionN", avg(satisfaction)::float8 AS "satisfactionMean"
         FROM video_user_signals WHERE project_id = $1 AND video_id = $2`,
      [projectId, videoId],
    );
    if (!generation && counts.viewers === 0) return null;
    const ratingRows: { name: string; n: number; mean: number }[] = await this.db.query(
      `SELECT 'overall' AS name, count(rating)::int AS n, avg(rating)::float8 AS mean
         FROM video_user_signals WHERE project_id = $1 AND video_id = $2 AND rating IS NOT NULL
       UNION ALL
       SELECT d.key, count(*)::int, avg(d.value::float8)
         FROM video_user_signals s CROSS JOIN LATERAL jsonb_each_text(s.dimension_ratings) AS d
        WHERE s.project_id = $1 AND s.video_id = $2
        GROUP BY d.key`,
      [projectId, videoId],
    );
    const ratings: VideoSummary['ratings'] = {};
    for (const r of ratingRows) {
      if (r.n > 0) ratings[r.name] = { n: r.n, meanRating: Number(r.mean), satisfaction: (Number(r.mean) - 3) / 2 };
    }
    const { viewers, events, satisfactionN, satisfactionMean, ...signals } = counts;
    return {
      videoId, generation: generation ?? null, events, viewers, signals,
      satisfaction: { n: satisfactionN, mean: satisfactionMean === null ? null : Number(satisfactionMean) }, ratings,
    };
  }

  /** Feature vectors of registered generations. */
  async features(projectId: string, videoIds: string[]): Promise<Map<string, number[]>> {
    const rows: { video_id: string; features: number[] }[] = await this.db.query(
      `SELECT video_id, features FROM generations WHERE project_id = $1 AND video_id = ANY($2::text[])`,
      [projectId, videoIds],
    );
    return new Map(rows.map((r) => [r.video_id, r.features]));
  }
}
