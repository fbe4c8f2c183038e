
/** A video's rollup dimensions (VideoDims of ingest.repository, which imports this file). */
interface Cell {
  model: string;
  modelVersion: string;
  category: string;
  segment: string;
}

/** A change to one hourly (and daily) per-dimension rollup row; values indexed like DIMENSION_COUNTERS. */
export interface DimensionRollupDelta extends Cell {
  projectId: string;
  hourMs: number;
  dimension: string;
  values: Float64Array;
}

/** A change to one video's per-dimension aggregate, under the video's rollup dimensions. */
export interface DimensionVideoDelta extends Cell {
  projectId: string;
  videoId: string;
  dimension: string;
  values: Float64Array;
}

/** A change to one user's per-dimension aggregate for one (model, model version). */
export interface DimensionUserDelta {
  projectId: string;
  userHash: string;
  model: string;
  modelVersion: string;
  dimension: string;
  values: Float64Array;
}

/** What a batch changes in the per-dimension sums: empty unless its rows' (new − old) touch dimension ratings. */
export interface DimensionDeltas {
  rollups: DimensionRollupDelta[];
  videos: DimensionVideoDelta[];
  users: DimensionUserDelta[];
}

export const isEmptyDimensionDeltas = (d: DimensionDeltas | undefined): boolean =>
  !d || (d.rollups.length === 0 && d.videos.length === 0 && d.users.length === 0);

/**
 * Applies per-dimension deltas in ONE statement (one round trip; only batches whose deltas touch dimension ratings
 * call it): the hourly and daily rollups, the per-video and per-user aggregates and, from the aggregates' new sums
 * read back under their row locks, the change of the cluster moments — a cluster whose sums went from S − δ to S
 * changes Σ S_a·S_b by δ_a·S_b + S_a·δ_b − δ_a·δ_b and the cluster count by [S_rated > 0] − [S_rated − δ_rated > 0]
 * (the rule of the overall aggregates, applyClusterDeltas). Rows are written in key order (ORDER BY), every batch's
 * statement has the same shape, so concurrent batches lock in one order. `counters` is DIMENSION_COUNTERS and
 * `moments` DIMENSION_MOMENT_COLUMNS of libs/satisfaction, passed in (this library does not import it). `query` runs
 * it (IngestTransaction's prepared-statement runner: the text is fixed, so it is planned once per connection).
 */
export async function applyDimensionDeltas(
  query: (sql: string, params: unknown[]) => Promise<unknown>, deltas: DimensionDeltas, counters: readonly string[], moments: readonly { name: string; a: string; b: string }[],
): Promise<void> {
  if (isEmptyDimensionDeltas(deltas)) return;
  const params: unknown[] = [];
  const arrays = (types: string[], columns: unknown[][]) => types.map((t, i) => {
    params.push(columns[i]);
    return `$${params.length}::${t}[]`;
  }).join(', ');
  const floats = counters.map(() => 'float8');
  const values = <T extends { values: Float64Array }>(list: T[]) => counters.map((_, i) => list.map((d) => d.values[i]));
  const { rollups: r, videos: v, users: u } = deltas;
  const hourly = arrays(['uuid', 'timestamptz', 'text', 'text', 'text', 'text', 'text', ...floats], [
    r.map((d) => d.projectId), r.map((d) => new Date(d.hourMs).toISOString()), r.map((d) => d.model), r.map((d) => d.modelVersion),
    r.map((d) => d.category), r.map((d) => d.segment), r.map((d) => d.dimension), ...values(r),
  ]);
  const video = arrays(['uuid', 'text', 'text', 'text', 'text', 'text', 'text', ...floats], [
    v.map((d) => d.projectId), v.map((d) => d.videoId), v.map((d) => d.model), v.map((d) => d.modelVersion),
    v.map((d) => d.category), v.map((d) => d.segment), v.map((d) => d.dimension), ...values(v),
  ]);
  const user = arrays(['uuid', 'text', 'text', 'text', 'text', ...floats], [
    u.map((d) => d.projectId), u.map((d) => d.userHash), u.map((d) => d.model), u.map((d) => d.modelVersion),
    u.map((d) => d.dimension), ...values(u),
  ]);
  const cols = counters.join(', ');
  const dcols = counters.map((c) => `d_${c}`).join(', ');
  const add = (alias: string) => counters.map((c) => `${c} = ${alias}.${c} + excluded.${c}`).join(', ');
  const cell = 'model, model_version, category, segment, dimension';
  const videoKey = ['project_id', 'video_id', 'model', 'model_version', 'category', 'segment', 'dimension'];
  const userKey = ['project_id', 'user_hash', 'model', 'model_version', 'dimension'];
  const on = (key: string[]) => key.map((c) => `u.${c} = d.${c}`).join(' AND ');
  const momentDeltas = moments.map((m) => `d.d_${m.a} * u.${m.b} + u.${m.a} * d.d_${m.b} - d.d_${m.a} * d.d_${m.b} AS ${m.name}`).join(', ');
  const returned = counters.map((c) => `a.${c}`).join(', ');
  await query(
    `WITH h AS (
       SELECT * FROM unnest(${hourly}) AS h(project_id, hour, ${cell}, ${cols})
     ), hourly AS (
       INSERT INTO dimension_rollups AS r (project_id, hour, ${cell}, ${cols})
       SELECT * FROM h ORDER BY 1, 2, 3, 4, 5, 6, 7
       ON CONFLICT (project_id, hour, ${cell}) DO UPDATE SET ${add('r')}
     ), daily AS (
       INSERT INTO dimension_rollups_daily AS r (project_id, day, ${cell}, ${cols})
       SELECT project_id, date_trunc('day', hour, 'UTC'), ${cell}, ${counters.map((c) => `sum(${c})`).join(', ')}
         FROM h GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
       ON CONFLICT (project_id, day, ${cell}) DO UPDATE SET ${add('r')}
     ), vd AS (
       SELECT * FROM unnest(${video}) AS d(${videoKey.join(', ')}, ${dcols})
     ), vu AS (
       INSERT INTO dimension_video_aggregates AS a (${videoKey.join(', ')}, created_at, ${cols})
       SELECT ${videoKey.map((c) => `d.${c}`).join(', ')},
              (SELECT g.created_at FROM generations g WHERE g.project_id = d.project_id AND g.video_id = d.video_id AND d.model <> ''),
              ${dcols}
         FROM vd d ORDER BY 1, 2, 3, 4, 5, 6, 7
       ON CONFLICT (${videoKey.join(', ')}) DO UPDATE SET ${add('a')}
       RETURNING ${videoKey.map((c) => `a.${c}`).join(', ')}, ${returned}
     ), ud AS (
       SELECT * FROM unnest(${user}) AS d(${userKey.join(', ')}, ${dcols})
     ), uu AS (
       INSERT INTO dimension_user_aggregates AS a (${userKey.join(', ')}, ${cols})
       SELECT * FROM ud ORDER BY 1, 2, 3, 4, 5
       ON CONFLICT (${userKey.join(', ')}) DO UPDATE SET ${add('a')}
       RETURNING ${userKey.map((c) => `a.${c}`).join(', ')}, ${returned}
     ), changes AS (
       SELECT u.project_id, 'video' AS unit, u.model, u.model_version, u.category, u.segment, u.dimension,
              (u.rated > 0)::int - (u.rated - d.d_rated > 0)::int AS clusters, ${momentDeltas}
         FROM vu u JOIN vd d ON ${on(videoKey)}
       UNION ALL
       SELECT u.project_id, 'user', u.model, u.model_version, '', '', u.dimension,
              (u.rated > 0)::int - (u.rated - d.d_rated > 0)::int, ${momentDeltas}
         FROM uu u JOIN ud d ON ${on(userKey)}
     )
     INSERT INTO dimension_cluster_moments AS m (project_id, unit, ${cell}, clusters, ${moments.map((m) => m.name).join(', ')})
     SELECT project_id, unit, ${cell}, sum(clusters), ${moments.map((m) => `sum(${m.name})`).join(', ')}
       FROM changes GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
     ON CONFLICT (project_id, unit, ${cell}) DO UPDATE SET
       clusters = m.clusters + excluded.clusters, ${moments.map((m) => `${m.name} = m.${m.name} + excluded.${m.name}`).join(', ')}`,
    params,
  );
}
