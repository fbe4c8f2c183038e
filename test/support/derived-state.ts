import type { TestDatabase } from '@flywheel/database/testing';
import { ROLLUP_COUNTERS } from '@flywheel/satisfaction';

/**
 * Derived state of one project — signal rows, hourly and daily rollups — read column by column, in key order, so
 * incremental state can be compared with what a rebuild from the stored events and generations writes.
 */
export interface DerivedState {
  signals: Row[];
  hourly: Row[];
  daily: Row[];
}

type Row = Record<string, unknown>;

const FLOAT_COUNTERS = new Set(['rating_sum', 'watch_sum', 'watch_sumsq', 'sat_sum', 'sat_sumsq']);

export async function readDerivedState(db: TestDatabase, projectId: string): Promise<DerivedState> {
  const signals: Row[] = await db.query(
    `SELECT video_id, user_hash, impressed, played, completed, max_watch_ratio, max_watch_ms, duration_ms, liked,
            favorited, shared, downloaded, exported, commented, rating, dimension_ratings, chosen, passed_over,
            regenerated, discarded, disliked, reported, clock, event_count, first_event_at, last_event_at,
            satisfaction, policy_id, rollup_hour, rollup_attributed
       FROM video_user_signals WHERE project_id = $1 ORDER BY video_id, user_hash`,
    [projectId],
  );
  const rollups = async (table: string, time: string): Promise<Row[]> => {
    const rows: Row[] = await db.query(
      `SELECT ${time}, model, model_version, category, segment, ${ROLLUP_COUNTERS.join(', ')}
         FROM ${table} WHERE project_id = $1 ORDER BY ${time}, model, model_version, category, segment`,
      [projectId],
    );
    // A row whose every counter went back to zero carries nothing (contributions moved away); a rebuild never writes one.
    return rows
      .map((r) => ({ ...r, ...Object.fromEntries(ROLLUP_COUNTERS.map((c) => [c, Number(r[c])])) }))
      .filter((r) => ROLLUP_COUNTERS.some((c) => Math.abs(r[c] as number) > 1e-9));
  };
  return {
    signals: signals.map((r) => canonical(r)),
    hourly: (await rollups('satisfaction_rollups', 'hour')).map((r) => canonical(r)),
    daily: (await rollups('satisfaction_rollups_daily', 'day')).map((r) => canonical(r)),
  };
}

/**
 * The first differences between two states, as text (empty when equal). Every column must be equal, except the
 * float sums of rollups (rating, watch and satisfaction sums), which are added in a different order incrementally
 * than in a rebuild and may differ in the last bits: they must agree to 1e-9 relative.
 */
export function diffDerivedState(actual: DerivedState, expected: DerivedState, limit = 5): string {
  const out: string[] = [];
  for (const part of ['signals', 'hourly', 'daily'] as const) {
    const a = actual[part];
    const e = expected[part];
    const key = (r: Row) => (part === 'signals' ? `${r.video_id}|${r.user_hash}` : `${r.hour ?? r.day}|${r.model}|${r.model_version}|${r.category}|${r.segment}`);
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
  if (FLOAT_COUNTERS.has(column) && typeof a === 'number' && typeof b === 'number') {
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
