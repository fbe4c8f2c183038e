/*
 * The benchmarks' bulk seeder (bench:metrics, bench:delete): a project's generations, feedback events and derived
 * state written in set-based SQL (INSERT … SELECT over generate_series), not through the apps — ~10M events in
 * minutes where the real fold (a rebuild) takes ~5 min per million.
 *
 * Generations: `versions` model versions × 6 categories × 4 segments (one video per ~30 viewers), created over the
 * span. Crowd episodes (one per (video, user)) spread over `days` days ending at `end`: impression, play, progress,
 * complete and the explicit signals with version-dependent rates, ~3.36 events each. Target users (`target-<r>`, for
 * bench:delete) get `targetEpisodes` episodes each on distinct videos: impression, play, progress and like.
 * feedback_events is loaded without its indexes, which are then built once (as a restore would).
 * The derived state is computed from those rows in SQL: one aggregate per (video, user) gives the video_user_signals
 * rows, those summed per hour × dimensions the hourly and daily rollups, per video and per (user, version) the
 * aggregates, and their cluster moments. The score there is a plausible stand-in for the policy (tanh of the v1
 * weights, with the watch term linear in the watch ratio instead of its duration-bucket rank): the read and delete
 * paths measured do not care. No toggles (unlike) in the seed: the aggregation would need last-writer-wins to fold them.
 */
import type { TestDatabase } from '@flywheel/database/testing';
import { ROLLUP_COLUMNS } from '@flywheel/database';
import { MOMENT_COLUMNS, MOMENT_COUNTERS, VIDEO_AGGREGATE_COUNTERS } from '@flywheel/satisfaction';
import { timed } from './timing';

export const VERSIONS = 8;
const CATEGORIES = ['pets', 'travel', 'food', 'sports', 'fashion', 'music'];
const SEGMENTS = ['casual', 'pro', 'teen', 'business'];
const VIEWERS_PER_VIDEO = 30;
/** Expected events per crowd episode with the probabilities below (measured, then used to size the episode count). */
export const EVENTS_PER_EPISODE = 3.36;
/** Events of a target user's episode: impression, play, progress, like. */
export const TARGET_EVENTS_PER_EPISODE = 4;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface SeedPlan {
  projectId: string;
  /** Crowd events, approximately. */
  events: number;
  days: number;
  /** End of the span (ms). */
  end: number;
  /** Users `target-0` … with `episodes` episodes each, over the last `days` days of the span (default: all of it). */
  targets?: { users: number; episodes: number; days?: number };
}

export interface Seeded {
  events: number;
  videos: number;
  signalRows: number;
  rollupRows: number;
}

export type SeedLog = (step: string, ms: number, detail?: string) => void;

/**
 * Per (video, user) aggregate of the raw events: the signal state the worker would fold (no toggles in this seed),
 * the effective watch ratio `w` and the stand-in satisfaction score (stored as real, like the worker's).
 */
export function episodeAggregate(source: string): string {
  return `
    SELECT video_id, user_hash, count(*)::int AS event_count, min(occurred_at) AS first_at, max(occurred_at) AS last_at,
           bool_or(type IN ('impression', 'play', 'complete')) AS impressed, bool_or(type IN ('play', 'complete')) AS played,
           bool_or(type = 'complete' OR (type = 'progress' AND watch_ms >= 0.98 * duration_ms)) AS completed, bool_or(type = 'like') AS liked, bool_or(type = 'favorite') AS favorited,
           bool_or(type = 'share') AS shared, bool_or(type = 'download') AS downloaded, bool_or(type = 'export') AS exported,
           bool_or(type = 'comment') AS commented, bool_or(type = 'regenerate') AS regenerated,
           bool_or(type = 'discard') AS discarded, bool_or(type = 'dislike') AS disliked, bool_or(type = 'report') AS reported,
           max(rating) FILTER (WHERE type = 'rate') AS rating,
           least(max(watch_ms / duration_ms) FILTER (WHERE type = 'progress'), 1.5) AS max_ratio,
           max(duration_ms) AS duration_ms, max(watch_ms) AS max_watch_ms
      FROM ${source}
     GROUP BY video_id, user_hash`;
}

export const WATCH = `CASE WHEN a.completed THEN least(greatest(coalesce(a.max_ratio, 1), 1), 1.5) ELSE a.max_ratio END`;
export const SCORE = `tanh(a.liked::int + a.favorited::int + 0.8 * a.shared::int + 0.8 * a.downloaded::int + 1.2 * a.exported::int
      + 0.3 * a.commented::int - a.disliked::int - 0.8 * a.discarded::int - 2 * a.reported::int - 0.5 * a.regenerated::int
      + coalesce((a.rating - 3) / 2.0, 0) + 0.1 * a.played::int + coalesce(0.4 * (2 * least(${WATCH}, 1) - 1), 0))::real`;

/** The rollup counters of a set of scored episodes `s` (columns of episodeAggregate plus w and satisfaction). */
export const COUNTERS = `
  count(*)::float8 AS viewers, count(*) FILTER (WHERE s.impressed)::float8 AS impressions,
  count(*) FILTER (WHERE s.played)::float8 AS plays, count(*) FILTER (WHERE s.completed)::float8 AS completions,
  count(*) FILTER (WHERE s.liked)::float8 AS likes, count(*) FILTER (WHERE s.favorited)::float8 AS favorites,
  count(*) FILTER (WHERE s.shared)::float8 AS shares, count(*) FILTER (WHERE s.downloaded)::float8 AS downloads,
  count(*) FILTER (WHERE s.exported)::float8 AS exports, count(*) FILTER (WHERE s.commented)::float8 AS comments,
  0::float8 AS chosen, 0::float8 AS passed_over,
  count(*) FILTER (WHERE s.regenerated)::float8 AS regenerates, count(*) FILTER (WHERE s.discarded)::float8 AS discards,
  count(*) FILTER (WHERE s.disliked)::float8 AS dislikes, count(*) FILTER (WHERE s.reported)::float8 AS reports,
  coalesce(sum(s.rating), 0)::float8 AS rating_sum, count(s.rating)::float8 AS rating_count,
  count(s.w)::float8 AS watch_n, coalesce(sum(s.w), 0)::float8 AS watch_sum, coalesce(sum(s.w * s.w), 0)::float8 AS watch_sumsq,
  sum(s.satisfaction::float8) AS sat_sum, sum(s.satisfaction::float8 * s.satisfaction::float8) AS sat_sumsq`;

/** Seeds `plan.projectId` (which must exist and hold nothing yet); `log` gets each step's time. */
export async function seedProject(db: TestDatabase, plan: SeedPlan, log: SeedLog = () => undefined): Promise<Seeded> {
  const { projectId, end } = plan;
  const episodes = Math.max(1000, Math.round(plan.events / EVENTS_PER_EPISODE));
  const targets = plan.targets ?? { users: 0, episodes: 0 };
  const targetDays = Math.min(plan.days, targets.days ?? plan.days);
  // Targets' episodes sit on distinct videos (2j + r): at least twice as many videos as a target's episodes.
  const videos = Math.max(VERSIONS * CATEGORIES.length * SEGMENTS.length, Math.round(episodes / VIEWERS_PER_VIDEO), 2 * targets.episodes + targets.users);
  const users = Math.max(1000, Math.round(episodes / 6));
  const spanSeconds = plan.days * 86400;
  const start = new Date(end - plan.days * DAY_MS).toISOString();
  await db.query(`SET synchronous_commit = off`);
  await db.query(`SET maintenance_work_mem = '512MB'`);
  await db.query(`SET work_mem = '256MB'`);
  await db.query(`SELECT setseed(0.42)`);

  let [, ms] = await timed(() => db.query(
    `INSERT INTO generations (project_id, video_id, request_id, prompt, prompt_norm, model, model_version, category, segment,
                              duration_ms, features, created_at, received_at)
     SELECT $1, 'v' || i, 'r' || (i / 4), 'prompt ' || (i / 4), 'prompt ' || (i / 4), 'seedance', '1.' || (i % ${VERSIONS}),
            (ARRAY['${CATEGORIES.join("','")}'])[1 + (i / ${VERSIONS}) % ${CATEGORIES.length}],
            (ARRAY['${SEGMENTS.join("','")}'])[1 + (i / ${VERSIONS * CATEGORIES.length}) % ${SEGMENTS.length}],
            5000 + (i * 7919) % 55000, ARRAY[random(), random(), random(), random()]::real[],
            $2::timestamptz + floor(i::float8 / $3 * $4) * interval '1 second', $2::timestamptz
       FROM generate_series(0, $3 - 1) AS i`,
    [projectId, start, videos, spanSeconds],
  ));
  log('generations', ms, `${videos.toLocaleString('en')} videos`);

  // One row per (video, user) episode with its random draws; the version index (video % 8) shifts the rates.
  [, ms] = await timed(() => db.query(
    `CREATE UNLOGGED TABLE bench_episodes AS
     SELECT 'e' || j AS tag, video, 'u' || (((j / $1) * 7919 + video * 31) % $2) AS user_hash, vi,
            $3::timestamptz + (floor(random() * $4) * interval '1 second') AS t0,
            5000 + (video * 7919) % 55000 AS duration_ms, random() AS watch,
            random() < 0.75 AS played, random() < 0.35 + 0.02 * vi AS completes, random() < 0.12 + 0.01 * vi AS liked,
            random() < 0.04 AS favorited, random() < 0.05 AS shared, random() < 0.03 AS downloaded,
            random() < 0.03 + 0.005 * vi AS exported, random() < 0.02 AS commented,
            random() < 0.08 - 0.005 * vi AS regenerated, random() < 0.04 AS discarded,
            random() < 0.06 - 0.004 * vi AS disliked, random() < 0.05 AS rated, 1 + floor(random() * 5)::int2 AS rating
       FROM (SELECT j, j % $1 AS video, (j % $1) % ${VERSIONS} AS vi FROM generate_series(0, $5 - 1) AS j) AS e`,
    [videos, users, start, spanSeconds, episodes],
  ));
  log('episodes', ms, `${episodes.toLocaleString('en')} (video, user) episodes`);
  for (let r = 0; r < targets.users; r++) {
    [, ms] = await timed(() => db.query(
      `INSERT INTO bench_episodes
       SELECT 't${r}.' || j, video, 'target-${r}', video % ${VERSIONS}, $2::timestamptz + (floor(random() * $3) * interval '1 second'),
              5000 + (video * 7919) % 55000, random(), true, false, true, false, false, false, false, false, false, false,
              false, false, 1::int2
         FROM (SELECT j, (j * 2 + ${r}) % $1 AS video FROM generate_series(0, $4 - 1) AS j) AS e`,
      [videos, new Date(end - targetDays * DAY_MS).toISOString(), targetDays * 86400, targets.episodes],
    ));
    log(`episodes of target-${r}`, ms, `${targets.episodes.toLocaleString('en')} episodes`);
  }

  // Bulk load without the indexes, then build them once (as a restore would). Whatever the migrations left on the
  // table is read from the catalog, so a migration that adds or drops an index never breaks this.
  const restoreIndexes = await dropIndexes(db, 'feedback_events');
  [, ms] = await timed(() => db.query(
    `INSERT INTO feedback_events (project_id, event_id, type, video_id, user_hash, occurred_at, received_at, watch_ms,
                                  duration_ms, rating)
     SELECT $1, p.tag || '.' || x.k, x.type, 'v' || p.video, p.user_hash, p.t0 + x.k * interval '1 second',
            p.t0 + x.k * interval '1 second' + interval '2 seconds', x.watch_ms, x.duration_ms, x.rating
       FROM bench_episodes p
      CROSS JOIN LATERAL (VALUES
        (0, 'impression', true, NULL::float8, NULL::float8, NULL::int2),
        (1, 'play', p.played, NULL, NULL, NULL),
        (2, 'progress', p.played, p.watch * 1.1 * p.duration_ms, p.duration_ms::float8, NULL),
        (3, 'complete', p.played AND p.completes, NULL, p.duration_ms::float8, NULL),
        (4, 'like', p.liked, NULL, NULL, NULL),
        (5, 'favorite', p.favorited, NULL, NULL, NULL),
        (6, 'share', p.shared, NULL, NULL, NULL),
        (7, 'download', p.downloaded, NULL, NULL, NULL),
        (8, 'export', p.exported, NULL, NULL, NULL),
        (9, 'comment', p.commented, NULL, NULL, NULL),
        (10, 'rate', p.rated, NULL, NULL, p.rating),
        (11, 'regenerate', p.regenerated, NULL, NULL, NULL),
        (12, 'discard', p.discarded, NULL, NULL, NULL),
        (13, 'dislike', p.disliked, NULL, NULL, NULL)
      ) AS x(k, type, keep, watch_ms, duration_ms, rating)
      WHERE x.keep`,
    [projectId],
  ));
  const [{ n: events }] = await db.query(`SELECT count(*)::int AS n FROM feedback_events WHERE project_id = $1`, [projectId]);
  log('feedback_events', ms, `${events.toLocaleString('en')} events (INSERT … SELECT)`);
  [, ms] = await timed(restoreIndexes);
  log('feedback_events indexes', ms);

  // Derived state from the raw rows, the way the worker keeps it: signals per (video, user), rollups per hour.
  [, ms] = await timed(() => db.query(
    `CREATE UNLOGGED TABLE bench_scored AS
     SELECT a.*, ${WATCH} AS w, ${SCORE} AS satisfaction
       FROM (${episodeAggregate(`feedback_events WHERE project_id = '${projectId}'`)}) AS a`,
  ));
  log('episode aggregate', ms);
  [, ms] = await timed(() => db.query(
    `INSERT INTO video_user_signals (project_id, video_id, user_hash, impressed, played, completed, max_watch_ratio,
            max_watch_ms, duration_ms, liked, favorited, shared, downloaded, exported, commented, rating, regenerated,
            discarded, disliked, reported, event_count, first_event_at, last_event_at, satisfaction, policy_id,
            rollup_hour, rollup_attributed)
     SELECT $1, video_id, user_hash, impressed, played, completed, max_ratio, max_watch_ms, duration_ms, liked, favorited,
            shared, downloaded, exported, commented, rating, regenerated, discarded, disliked, reported, event_count,
            first_at, last_at, satisfaction, 'v1', date_trunc('hour', first_at, 'UTC'), true
       FROM bench_scored`,
    [projectId],
  ));
  log('video_user_signals', ms);
  [, ms] = await timed(() => db.query(
    `INSERT INTO satisfaction_rollups (project_id, hour, model, model_version, category, segment, policy_id, ${ROLLUP_COLUMNS.join(', ')})
     SELECT $1, date_trunc('hour', s.first_at, 'UTC'), g.model, g.model_version, coalesce(g.category, ''),
            coalesce(g.segment, ''), 'v1', ${COUNTERS.replace(/ AS \w+/g, '')}
       FROM bench_scored s
       JOIN generations g ON g.project_id = $1 AND g.video_id = s.video_id
      GROUP BY 2, 3, 4, 5, 6
      -- In the order the ingest path creates them (an hour's rows during that hour), not in hash order: a window's
      -- rows of one hour then share pages, as they do in a table the worker filled.
      ORDER BY 2, 3, 4, 5, 6`,
    [projectId],
  ));
  const [{ n: rollupRows }] = await db.query(`SELECT count(*)::int AS n FROM satisfaction_rollups`);
  log('satisfaction_rollups', ms, `${rollupRows.toLocaleString('en')} hourly rows`);
  // The daily rollups, as the ingest code writes them beside the hourly ones: the hourly rows summed per UTC day.
  [, ms] = await timed(() => db.query(
    `INSERT INTO satisfaction_rollups_daily (project_id, day, model, model_version, category, segment, ${ROLLUP_COLUMNS.join(', ')})
     SELECT project_id, date_trunc('day', hour, 'UTC'), model, model_version, category, segment,
            ${ROLLUP_COLUMNS.map((c) => `sum(${c})`).join(', ')}
       FROM satisfaction_rollups WHERE project_id = $1
      GROUP BY 1, 2, 3, 4, 5, 6`,
    [projectId],
  ));
  log('satisfaction_rollups_daily', ms);
  // The per-video and per-user aggregates and their cluster moments, as the ingest code keeps them.
  [, ms] = await timed(async () => {
    await db.query(
      `INSERT INTO video_aggregates (project_id, video_id, model, model_version, category, segment, created_at, ${VIDEO_AGGREGATE_COUNTERS.join(', ')})
       SELECT project_id, video_id, model, model_version, category, segment, created_at, ${VIDEO_AGGREGATE_COUNTERS.join(', ')}
         FROM (SELECT $1::uuid AS project_id, s.video_id, g.model, g.model_version, coalesce(g.category, '') AS category,
                      coalesce(g.segment, '') AS segment, g.created_at, ${COUNTERS}
                 FROM bench_scored s JOIN generations g ON g.project_id = $1 AND g.video_id = s.video_id
                GROUP BY 2, 3, 4, 5, 6, 7) AS v
        ORDER BY created_at`,
      [projectId],
    );
    await db.query(
      `INSERT INTO user_aggregates (project_id, user_hash, model, model_version, ${MOMENT_COUNTERS.join(', ')})
       SELECT project_id, user_hash, model, model_version, ${MOMENT_COUNTERS.join(', ')}
         FROM (SELECT $1::uuid AS project_id, s.user_hash, g.model, g.model_version, ${COUNTERS}
                 FROM bench_scored s JOIN generations g ON g.project_id = $1 AND g.video_id = s.video_id
                GROUP BY 2, 3, 4) AS u`,
      [projectId],
    );
    const moments = MOMENT_COLUMNS.map((m) => `sum(${m.a} * ${m.b})`).join(', ');
    await db.query(
      `INSERT INTO cluster_moments (project_id, unit, model, model_version, category, segment, clusters, ${MOMENT_COLUMNS.map((m) => m.name).join(', ')})
       SELECT project_id, 'video', model, model_version, category, segment, count(*), ${moments}
         FROM video_aggregates WHERE project_id = $1 GROUP BY 1, 2, 3, 4, 5, 6
       UNION ALL
       SELECT project_id, 'user', model, model_version, '', '', count(*), ${moments}
         FROM user_aggregates WHERE project_id = $1 GROUP BY 1, 2, 3, 4`,
      [projectId],
    );
  });
  const [{ v: videoRows, u: userRows }] = await db.query(`SELECT (SELECT count(*) FROM video_aggregates)::int AS v, (SELECT count(*) FROM user_aggregates)::int AS u`);
  log('video/user aggregates', ms, `${videoRows.toLocaleString('en')} videos, ${userRows.toLocaleString('en')} (user, version) rows`);
  await db.query(`DROP TABLE bench_episodes`);
  await db.query(`DROP TABLE bench_scored`);
  [, ms] = await timed(() => db.query(`VACUUM ANALYZE`));
  log('vacuum analyze', ms);
  const [{ n: signalRows }] = await db.query(`SELECT count(*)::int AS n FROM video_user_signals WHERE project_id = $1`, [projectId]);
  return { events: Number(events), videos, signalRows: Number(signalRows), rollupRows: Number(rollupRows) };
}

/**
 * Drops a table's constraints that own an index (primary key, unique, exclusion) and its other indexes; returns the
 * function that builds them again from their catalog definitions.
 */
async function dropIndexes(db: TestDatabase, table: string): Promise<() => Promise<void>> {
  const constraints: { name: string; definition: string }[] = await db.query(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
      WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'x') ORDER BY conname`, [table]);
  const indexes: { name: string; definition: string }[] = await db.query(
    `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      WHERE x.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
      ORDER BY i.relname`, [table]);
  for (const c of constraints) await db.query(`ALTER TABLE ${table} DROP CONSTRAINT ${c.name}`);
  for (const i of indexes) await db.query(`DROP INDEX ${i.name}`);
  return async () => {
    for (const c of constraints) await db.query(`ALTER TABLE ${table} ADD CONSTRAINT ${c.name} ${c.definition}`);
    for (const i of indexes) await db.query(i.definition);
  };
}

