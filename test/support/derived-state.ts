import type { TestDatabase } from '@flywheel/database/testing';
import { DIMENSION_COUNTERS, DIMENSION_MOMENT_COLUMNS, MOMENT_COLUMNS, MOMENT_COUNTERS, ROLLUP_COUNTERS, VIDEO_AGGREGATE_COUNTERS } from '@flywheel/satisfaction';

/**
 * Derived state of one project — signal rows, hourly and daily rollups, per-video and per-user aggregates and their
 * cluster moments — read column by column, in key order, so incremental state can be compared with what a rebuild
 * from the stored events and generations writes.
 */
export interface DerivedState {
  signals: Row[];
  hourly: Row[];
  daily: Row[];
  videos: Row[];
  users: Row[];
  moments: Row[];
  /** The same per rating dimension (dimension_rollups, …): rows carry `dimension`. */
  dimensionHourly: Row[];
  dimensionDaily: Row[];
  dimensionVideos: Row[];
  dimensionUsers: Row[];
  dimensionMoments: Row[];
}

const PARTS = ['signals', 'hourly', 'daily', 'videos', 'users', 'moments', 'dimensionHourly', 'dimensionDaily', 'dimensionVideos', 'dimensionUsers', 'dimensionMoments'] as const;
const MOMENT_NAMES = ['clusters', ...MOMENT_COLUMNS.map((m) => m.name)];
const DIMENSION_MOMENT_NAMES = ['clusters', ...DIMENSION_MOMENT_COLUMNS.map((m) => m.name)];

type Row = Record<string, unknown>;

const FLOAT_COUNTERS = new Set(['rating_sum', 'watch_sum', 'watch_sumsq', 'sat_sum', 'sat_sumsq']);
/** Moments built from float sums (products of sums added in another order): compared to 1e-9 like them. */
const FLOAT_MOMENTS = new Set(MOMENT_COLUMNS.filter((m) => FLOAT_COUNTERS.has(m.a) || FLOAT_COUNTERS.has(m.b)).map((m) => m.name));
// Dimension sums are sums of whole ratings (exact in float8), compared exactly like the counts.

export async function readDerivedState(db: TestDatabase, projectId: string): Promise<DerivedState> {
  const signals: Row[] = await db.query(
    `SELECT video_id, user_hash, impressed, played, completed, max_watch_ratio, max_watch_ms, duration_ms, liked,
            favorited, shared, downloaded, exported, commented, rating, dimension_ratings, chosen, passed_over,
            regenerated, discarded, disliked, reported, clock, event_count, first_event_at, last_event_at,
            satisfaction, policy_id, rollup_hour, rollup_attributed
       FROM video_user_signals WHERE project_id = $1 ORDER BY video_id, user_hash`,
    [projectId],
  );
  const sums = async (table: string, keys: string, values: readonly string[]): Promise<Row[]> => {
    const rows: Row[] = await db.query(
      `SELECT ${keys}, ${values.join(', ')} FROM ${table} WHERE project_id = $1 ORDER BY ${keys.replace(/, created_at$/, '')}`,
      [projectId],
    );
    // A row whose every sum went back to zero carries nothing (contributions moved away); a rebuild never writes one.
    return rows
      .map((r) => ({ ...r, ...Object.fromEntries(values.map((c) => [c, Number(r[c])])) }))
      .filter((r) => values.some((c) => Math.abs(r[c] as number) > 1e-9));
  };
  const dims = 'model, model_version, category, segment';
  return {
    signals: signals.map((r) => canonical(r)),
    hourly: (await sums('satisfaction_rollups', `hour, ${dims}`, ROLLUP_COUNTERS)).map((r) => canonical(r)),
    daily: (await sums('satisfaction_rollups_daily', `day, ${dims}`, ROLLUP_COUNTERS)).map((r) => canonical(r)),
    videos: (await sums('video_aggregates', `video_id, ${dims}, created_at`, VIDEO_AGGREGATE_COUNTERS)).map((r) => canonical(r)),
    users: (await sums('user_aggregates', 'user_hash, model, model_version', MOMENT_COUNTERS)).map((r) => canonical(r)),
    moments: (await sums('cluster_moments', 'unit, model, model_version, category, segment', MOMENT_NAMES)).map((r) => canonical(r)),
    dimensionHourly: (await sums('dimension_rollups', `hour, ${dims}, dimension`, DIMENSION_COUNTERS)).map((r) => canonical(r)),
    dimensionDaily: (await sums('dimension_rollups_daily', `day, ${dims}, dimension`, DIMENSION_COUNTERS)).map((r) => canonical(r)),
    dimensionVideos: (await sums('dimension_video_aggregates', `video_id, ${dims}, dimension, created_at`, DIMENSION_COUNTERS)).map((r) => canonical(r)),
    dimensionUsers: (await sums('dimension_user_aggregates', 'user_hash, model, model_version, dimension', DIMENSION_COUNTERS)).map((r) => canonical(r)),
    dimensionMoments: (await sums('dimension_cluster_moments', `unit, ${dims}, dimension`, DIMENSION_MOMENT_NAMES)).map((r) => canonical(r)),
  };
}

/**
 * The first differences between two states, as text (empty when equal). Every column must be equal, except the
 * float sums (rating, watch and satisfaction sums, and the cluster moments built from them), which are added in a
 * different order incrementally than in a rebuild and may differ in the last bits: they must agree to 1e-9 relative.
 */
export function diffDerivedState(actual: DerivedState, expected: DerivedState, limit = 5): string {
  const out: string[] = [];
  for (const part of PARTS) {
    const a = actual[part];
    const e = expected[part];
    const key = (r: Row) => ({
      signals: () => `${r.video_id}|${r.user_hash}`,
      hourly: () => `${r.hour}|${r.model}|${r.model_version}|${r.category}|${r.segment}`,
      daily: () => `${r.day}|${r.model}|${r.model_version}|${r.category}|${r.segment}`,
      videos: () => `${r.video_id}|${r.model}|${r.model_version}|${r.category}|${r.segment}`,
      users: () => `${r.user_hash}|${r.model}|${r.model_version}`,
      moments: () => `${r.unit}|${r.model}|${r.model_version}|${r.category}|${r.segment}`,
      dimensionHourly: () => `${r.hour}|${r.model}|${r.model_version}|${r.category}|${r.segment}|${r.dimension}`,
      dimensionDaily: () => `${r.day}|${r.model}|${r.model_version}|${r.category}|${r.segment}|${r.dimension}`,
      dimensionVideos: () => `${r.video_id}|${r.model}|${r.model_version}|${r.category}|${r.segment}|${r.dimension}`,
      dimensionUsers: () => `${r.user_hash}|${r.model}|${r.model_version}|${r.dimension}`,
      dimensionMoments: () => `${r.unit}|${r.model}|${r.model_version}|${r.category}|${r.segment}|${r.dimension}`,
    })[part]();
    const byKey = new Map(e.map((r) => [key(r), r]));
    const seen = new Set<string>();
    let shown = 0;
    const report = (line: string) => {
      if (shown++ < limit) out.push(`${part}: ${line}`);
    };
    for (const row of a) {
      const k = key(row);
      seen.add(k);
      const other = byKey.get(k);
      if (!other) {
        report(`incremental has ${JSON.stringify(row)}; the rebuild has no such row`);
        continue;
      }
      const columns = Object.keys(row).filter((c) => !sameValue(c, row[c], other[c]));
      if (columns.length) {
        report(`${k} differs in ${columns.map((c) => `${c}: incremental ${JSON.stringify(row[c])} vs rebuild ${JSON.stringify(other[c])}`).join('; ')}`);
      }
    }
    for (const row of e) if (!seen.has(key(row))) report(`the rebuild has ${JSON.stringify(row)}; incremental has no such row`);
    if (shown > limit) out.push(`${part}: … ${shown - limit} more differences`);
  }
  return out.join('\n');
}

function sameValue(column: string, a: unknown, b: unknown): boolean {
  if ((FLOAT_COUNTERS.has(column) || FLOAT_MOMENTS.has(column)) && typeof a === 'number' && typeof b === 'number') {
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Dates as ISO strings, jsonb with sorted keys: values that compare by their JSON text. */
function canonical(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof Date ? v.toISOString() : sortKeys(v);
  return out;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Row)[k])]));
  return v;
}

/**
 * What the aggregates must satisfy among themselves, whatever wrote them: per (model, model version) the video
 * aggregates and the user aggregates each sum to the hourly rollups in every counter they keep; each video-moment row (per model, version,
 * category, segment) and user-moment row (per model, version) equals Σ S_a·S_b and the count of clusters with
 * viewers recomputed from its aggregate rows. Empty when they hold.
 */
export function aggregateProblems(state: DerivedState, limit = 5): string {
  const out: string[] = [];
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  const groupBy = (rows: Row[], key: (r: Row) => string) => {
    const m = new Map<string, Row[]>();
    for (const r of rows) m.set(key(r), [...(m.get(key(r)) ?? []), r]);
    return m;
  };
  const version = (r: Row) => `${r.model}|${r.model_version}`;
  const cell = (r: Row) => `${r.model}|${r.model_version}|${r.category}|${r.segment}`;
  const hourly = groupBy(state.hourly, version);
  for (const [unit, rows] of [['video', state.videos], ['user', state.users]] as const) {
    const versions = groupBy(rows, version);
    for (const k of new Set([...versions.keys(), ...hourly.keys()])) {
      for (const c of unit === 'video' ? VIDEO_AGGREGATE_COUNTERS : MOMENT_COUNTERS) {
        const a = (versions.get(k) ?? []).reduce((s, r) => s + (r[c] as number), 0);
        const h = (hourly.get(k) ?? []).reduce((s, r) => s + (r[c] as number), 0);
        if (!close(a, h)) out.push(`${unit} aggregates of ${k}: ${c} sums to ${a}, the hourly rollups to ${h}`);
      }
    }
    const momentKey = unit === 'video' ? cell : (r: Row) => `${r.model}|${r.model_version}||`;
    const groups = groupBy(rows, momentKey);
    const kept = new Map(state.moments.filter((m) => m.unit === unit).map((m) => [cell(m), m]));
    for (const k of new Set([...groups.keys(), ...kept.keys()])) {
      const list = groups.get(k) ?? [];
      const moment = kept.get(k);
      const clusters = list.filter((r) => (r.viewers as number) > 0).length;
      if ((moment ? (moment.clusters as number) : 0) !== clusters) out.push(`${unit} moments of ${k}: clusters ${moment?.clusters} vs ${clusters}`);
      for (const m of MOMENT_COLUMNS) {
        const direct = list.reduce((s, r) => s + (r[m.a] as number) * (r[m.b] as number), 0);
        const value = moment ? (moment[m.name] as number) : 0;
        if (!close(value, direct)) out.push(`${unit} moments of ${k}: ${m.name} kept ${value}, recomputed ${direct}`);
      }
    }
  }
  // Per rating dimension: the same identities, plus the hourly rows against the signal rows' dimension_ratings.
  const dimVersion = (r: Row) => `${r.model}|${r.model_version}|${r.dimension}`;
  const dimHourly = groupBy(state.dimensionHourly, dimVersion);
  for (const [unit, rows] of [['video', state.dimensionVideos], ['user', state.dimensionUsers]] as const) {
    const versions = groupBy(rows, dimVersion);
    for (const k of new Set([...versions.keys(), ...dimHourly.keys()])) {
      for (const c of DIMENSION_COUNTERS) {
        const a = (versions.get(k) ?? []).reduce((s, r) => s + (r[c] as number), 0);
        const h = (dimHourly.get(k) ?? []).reduce((s, r) => s + (r[c] as number), 0);
        if (!close(a, h)) out.push(`dimension ${unit} aggregates of ${k}: ${c} sums to ${a}, the hourly rollups to ${h}`);
      }
    }
    const momentKey = unit === 'video' ? (r: Row) => `${cell(r)}|${r.dimension}` : (r: Row) => `${r.model}|${r.model_version}|||${r.dimension}`;
    const groups = groupBy(rows, momentKey);
    const kept = new Map(state.dimensionMoments.filter((m) => m.unit === unit).map((m) => [`${cell(m)}|${m.dimension}`, m]));
    for (const k of new Set([...groups.keys(), ...kept.keys()])) {
      const list = groups.get(k) ?? [];
      const moment = kept.get(k);
      const clusters = list.filter((r) => (r.rated as number) > 0).length;
      if ((moment ? (moment.clusters as number) : 0) !== clusters) out.push(`dimension ${unit} moments of ${k}: clusters ${moment?.clusters} vs ${clusters}`);
      for (const m of DIMENSION_MOMENT_COLUMNS) {
        const direct = list.reduce((s, r) => s + (r[m.a] as number) * (r[m.b] as number), 0);
        const value = moment ? (moment[m.name] as number) : 0;
        if (!close(value, direct)) out.push(`dimension ${unit} moments of ${k}: ${m.name} kept ${value}, recomputed ${direct}`);
      }
    }
  }
  const rated = new Map<string, { n: number; sum: number }>();
  for (const s of state.signals) {
    if (s.rollup_hour === null) continue;
    for (const [dimension, rating] of Object.entries((s.dimension_ratings ?? {}) as Record<string, number>)) {
      const entry = rated.get(dimension) ?? { n: 0, sum: 0 };
      entry.n += 1;
      entry.sum += rating;
      rated.set(dimension, entry);
    }
  }
  const hourlyByDimension = groupBy(state.dimensionHourly, (r) => r.dimension as string);
  for (const k of new Set([...rated.keys(), ...hourlyByDimension.keys()])) {
    const rows = hourlyByDimension.get(k) ?? [];
    const n = rows.reduce((s, r) => s + (r.rated as number), 0);
    const sum = rows.reduce((s, r) => s + (r.rating_sum as number), 0);
    if (n !== (rated.get(k)?.n ?? 0) || sum !== (rated.get(k)?.sum ?? 0)) {
      out.push(`dimension ${k}: hourly rollups hold ${n} ratings summing to ${sum}, the signal rows ${JSON.stringify(rated.get(k))}`);
    }
  }
  return out.slice(0, limit).join('\n') + (out.length > limit ? `\n… ${out.length - limit} more` : '');
}
