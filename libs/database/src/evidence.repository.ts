import { DataSource } from 'typeorm';

/** Which observations a preference set or a training run draws from. */
export interface EvidenceFilters {
  from?: Date;
  to?: Date;
  modelVersions?: string[];
  categories?: string[];
  segments?: string[];
}

export interface VideoEvidenceRow {
  videoId: string;
  requestId: string;
  promptNorm: string;
  prompt: string;
  /** The generator that made the video (model name) and its version. */
  model: string;
  modelVersion: string;
  uri: string | null;
  features: number[];
  /** Users with a satisfaction score on this video, their sum, and mean ratings per dimension (null: none). */
  n: number;
  satSum: number;
  visualQuality: number | null;
  motionQuality: number | null;
  textAlignment: number | null;
  overallRating: number | null;
  /** Every rated dimension of the video: mean rating 1–5 and how many users rated it. */
  dimensions: Record<string, { mean: number; n: number }>;
  /** Users (with a satisfaction score) who liked, exported or chose it; who discarded, regenerated or disliked it. */
  positive: number;
  negative: number;
  /** What the generator declared of the file, if anything. */
  fps: number | null;
  numFrames: number | null;
}

/** What training needs of a generation it only knows by id (the videos of a stored preference set). */
export interface GenerationFeaturesRow {
  videoId: string;
  model: string;
  modelVersion: string;
  features: number[];
}

export interface UserObservationRow {
  userHash: string;
  videoId: string;
  satisfaction: number;
  atMs: number;
}

/** One user's scores of one video: their satisfaction and their latest rating per dimension. */
export interface UserRatingRow {
  userHash: string;
  videoId: string;
  satisfaction: number;
  dimensions: Record<string, number>;
}

/** Reads the evidence that preference pairs and reward models are built from. */
export class EvidenceRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Per-video evidence. The satisfaction sum is taken in double precision and in user order: the scores are float4,
   * and a float sum in heap order changes in the last bits when rows move (an update, a rebuild, VACUUM FULL), which
   * would change the pairs' margins and a retrain's bytes on unchanged data.
   */
  async videos(projectId: string, filters: EvidenceFilters): Promise<VideoEvidenceRow[]> {
    const { where, params } = conditions(projectId, filters);
    const rows: Record<string, unknown>[] = await this.db.query(
      `SELECT g.video_id, g.request_id, g.prompt_norm, g.prompt, g.model, g.model_version, g.uri, g.features,
              g.fps::float8 AS fps, g.num_frames,
              count(s.satisfaction)::int AS n, coalesce(sum(s.satisfaction::float8 ORDER BY s.user_hash), 0) AS sat_sum,
              count(*) FILTER (WHERE s.liked OR s.exported OR s.chosen)::int AS positive,
              count(*) FILTER (WHERE s.discarded OR s.regenerated OR s.disliked)::int AS negative,
              avg((s.dimension_ratings ->> 'visual_quality')::float8) AS vq,
              avg((s.dimension_ratings ->> 'motion_quality')::float8) AS mq,
              avg((s.dimension_ratings ->> 'text_alignment')::float8) AS ta,
              avg(s.rating)::float8 AS overall
         FROM generations g
         LEFT JOIN video_user_signals s ON s.project_id = g.project_id AND s.video_id = g.video_id
              AND s.satisfaction IS NOT NULL ${where.signals}
        WHERE g.project_id = $1 ${where.generations}
        GROUP BY g.project_id, g.video_id
        ORDER BY g.video_id`,
      params,
    );
    const dimensionRows: { video_id: string; name: string; mean: number; n: number }[] = await this.db.query(
      `SELECT s.video_id, d.key AS name, avg(d.value::float8) AS mean, count(*)::int AS n
         FROM video_user_signals s
         JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
         CROSS JOIN LATERAL jsonb_each_text(s.dimension_ratings) AS d
        WHERE s.project_id = $1 AND s.satisfaction IS NOT NULL AND s.dimension_ratings <> '{}'::jsonb ${where.signals} ${where.generations}
        GROUP BY s.video_id, d.key`,
      params,
    );
    const dimensions = new Map<string, Record<string, { mean: number; n: number }>>();
    for (const d of dimensionRows) {
      const entry = dimensions.get(d.video_id) ?? {};
      entry[d.name] = { mean: Number(d.mean), n: d.n };
      dimensions.set(d.video_id, entry);
    }
    const num = (v: unknown) => (v === null ? null : Number(v));
    return rows.map((r) => ({
      videoId: r.video_id as string, requestId: r.request_id as string, promptNorm: r.prompt_norm as string,
      prompt: r.prompt as string, model: r.model as string, modelVersion: r.model_version as string, uri: r.uri as string | null,
      features: r.features as number[], n: r.n as number, satSum: Number(r.sat_sum), visualQuality: num(r.vq),
      motionQuality: num(r.mq), textAlignment: num(r.ta), overallRating: num(r.overall),
      dimensions: dimensions.get(r.video_id as string) ?? {},
      positive: r.positive as number, negative: r.negative as number,
      fps: r.fps === null ? null : Math.fround(Number(r.fps)), numFrames: r.num_frames as number | null,
    }));
  }

  /** Generator and features of these videos (those registered; the caller checks for missing ones). */
  async generationsOf(projectId: string, videoIds: string[]): Promise<GenerationFeaturesRow[]> {
    const rows: { video_id: string; model: string; model_version: string; features: number[] }[] = await this.db.query(
      `SELECT video_id, model, model_version, features FROM generations WHERE project_id = $1 AND video_id = ANY($2::text[])`,
      [projectId, videoIds],
    );
    return rows.map((r) => ({ videoId: r.video_id, model: r.model, modelVersion: r.model_version, features: r.features }));
  }

  /** Every (user, video) with a satisfaction score and the user's dimension ratings, ordered by user then video. */
  async userRatings(projectId: string, filters: EvidenceFilters): Promise<UserRatingRow[]> {
    const { where, params } = conditions(projectId, filters);
    const rows: { user_hash: string; video_id: string; satisfaction: number; dimension_ratings: Record<string, number> | null }[] = await this.db.query(
      `SELECT s.user_hash, s.video_id, s.satisfaction, s.dimension_ratings
         FROM video_user_signals s JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
        WHERE s.project_id = $1 AND s.satisfaction IS NOT NULL ${where.signals} ${where.generations}
        ORDER BY s.user_hash, s.video_id`,
      params,
    );
    return rows.map((r) => ({
      userHash: r.user_hash, videoId: r.video_id, satisfaction: Number(r.satisfaction),
      dimensions: Object.fromEntries(Object.entries(r.dimension_ratings ?? {}).map(([k, v]) => [k, Number(v)])),
    }));
  }

  /** One user's satisfaction per video, ordered by user then time (the session scope reads it in that order). */
  async userObservations(projectId: string, filters: EvidenceFilters): Promise<UserObservationRow[]> {
    const { where, params } = conditions(projectId, filters);
    const rows: { user_hash: string; video_id: string; satisfaction: number; first_event_at: Date }[] = await this.db.query(
      `SELECT s.user_hash, s.video_id, s.satisfaction, s.first_event_at
         FROM video_user_signals s JOIN generations g ON g.project_id = s.project_id AND g.video_id = s.video_id
        WHERE s.project_id = $1 AND s.satisfaction IS NOT NULL ${where.signals} ${where.generations}
        ORDER BY s.user_hash, s.first_event_at`,
      params,
    );
    return rows.map((r) => ({ userHash: r.user_hash, videoId: r.video_id, satisfaction: Number(r.satisfaction), atMs: new Date(r.first_event_at).getTime() }));
  }
}

function conditions(projectId: string, f: EvidenceFilters): { where: { signals: string; generations: string }; params: unknown[] } {
  const params: unknown[] = [projectId];
  const add = (value: unknown) => `$${params.push(value)}`;
  const signals: string[] = [];
  const generations: string[] = [];
  if (f.from) signals.push(`s.first_event_at >= ${add(f.from.toISOString())}`);
  if (f.to) signals.push(`s.first_event_at < ${add(f.to.toISOString())}`);
  if (f.modelVersions?.length) generations.push(`g.model_version = ANY(${add(f.modelVersions)}::text[])`);
  if (f.categories?.length) generations.push(`coalesce(g.category, '') = ANY(${add(f.categories)}::text[])`);
  if (f.segments?.length) generations.push(`coalesce(g.segment, '') = ANY(${add(f.segments)}::text[])`);
  return {
    where: { signals: signals.map((c) => `AND ${c}`).join(' '), generations: generations.map((c) => `AND ${c}`).join(' ') },
    params,
  };
}
