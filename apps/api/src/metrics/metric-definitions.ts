import { RollupColumn } from '@flywheel/database';

/**
 * The metrics a dashboard answer holds, and what each is over. "Viewers" are (video, user) rows: one per user who did
 * anything with a video, counted in the hour of their first event. Flags are the current state, so an `unlike`
 * takes a like back out.
 */
export interface RateMetric<C extends string = RollupColumn> {
  kind: 'rate';
  key: string;
  /** What the dashboard page calls it. */
  label: string;
  /** 1: higher is better for users (likes); -1: lower is (discards). The page colours differences by it. */
  better: 1 | -1;
  successes: C;
  denominator: C;
  description: string;
}

export interface MeanMetric<C extends string = RollupColumn> {
  kind: 'mean';
  key: string;
  label: string;
  better: 1 | -1;
  n: C;
  sum: C;
  sumSq: C;
  description: string;
}

export type MetricDefinition<C extends string = RollupColumn> = RateMetric<C> | MeanMetric<C>;

const rate = (key: string, label: string, better: 1 | -1, successes: RollupColumn, denominator: RollupColumn, description: string): RateMetric =>
  ({ kind: 'rate', key, label, better, successes, denominator, description });

export const METRICS: readonly MetricDefinition[] = [
  rate('like', 'Like rate', 1, 'likes', 'viewers', 'Liked (current state) / viewers. Cluster-robust 95% interval.'),
  rate('favorite', 'Favorite rate', 1, 'favorites', 'viewers', 'Favorited (current state) / viewers. Cluster-robust 95% interval.'),
  rate('share', 'Share rate', 1, 'shares', 'viewers', 'Shared / viewers. Cluster-robust 95% interval.'),
  rate('download', 'Download rate', 1, 'downloads', 'viewers', 'Downloaded / viewers. Cluster-robust 95% interval.'),
  rate('export', 'Export rate', 1, 'exports', 'viewers', 'Exported (used in an edit or published) / viewers. Cluster-robust 95% interval.'),
  rate('completion', 'Completion rate (of plays)', 1, 'completions', 'plays', 'Completed / viewers who played the video (not / all viewers). Cluster-robust 95% interval.'),
  rate('regenerate', 'Regenerate rate', -1, 'regenerates', 'viewers', 'Asked for another take / viewers. Cluster-robust 95% interval.'),
  rate('discard', 'Discard rate', -1, 'discards', 'viewers', 'Discarded / viewers. Cluster-robust 95% interval.'),
  rate('dislike', 'Dislike rate', -1, 'dislikes', 'viewers', 'Disliked ("not interested") / viewers. Cluster-robust 95% interval.'),
  {
    kind: 'mean', key: 'watchRatio', label: 'Mean watch ratio', better: 1, n: 'watch_n', sum: 'watch_sum', sumSq: 'watch_sumsq',
    description: 'Mean watch ratio (highest watchMs / durationMs; at least 1 when completed; capped at 1.5) over the '
      + 'viewers with watch evidence (n). Cluster-robust 95% interval.',
  },
  {
    kind: 'mean', key: 'satisfaction', label: 'Mean satisfaction', better: 1, n: 'viewers', sum: 'sat_sum', sumSq: 'sat_sumsq',
    description: 'Mean satisfaction score in (-1, 1) of the policy (libs/satisfaction, v1) over all viewers; a viewer '
      + 'with no signal beyond an impression scores 0. Cluster-robust 95% interval.',
  },
];

export const METRIC_KEYS = METRICS.map((m) => m.key);

export const METRIC_DESCRIPTION: Readonly<Record<string, string>> = Object.fromEntries(METRICS.map((m) => [m.key, m.description]));

/** The sums a rating dimension's metrics read: the dimension rollups' counters and the per-dimension satisfaction's. */
export type DimensionColumn = 'rated' | 'rating_sum' | 'rating_sumsq' | 'sat_sum' | 'sat_sumsq';

/**
 * The metrics of one rating dimension (`?dimension=`): over the (video, user) rows that rated it, counted like viewers
 * in the hour of the row's first event. Both are means of the same ratings (satisfaction is (rating − 3) / 2), so they
 * have the same design effect and p-values.
 */
export const DIMENSION_METRICS: readonly MeanMetric<DimensionColumn>[] = [
  {
    kind: 'mean', key: 'rating', label: 'Mean rating', better: 1, n: 'rated', sum: 'rating_sum', sumSq: 'rating_sumsq',
    description: "Mean rating 1–5 of the dimension over the viewers who rated it (n: each (video, user) row's latest "
      + 'rating of that dimension). Cluster-robust 95% interval.',
  },
  {
    kind: 'mean', key: 'satisfaction', label: 'Mean dimension satisfaction', better: 1, n: 'rated', sum: 'sat_sum', sumSq: 'sat_sumsq',
    description: "The dimension's satisfaction (rating − 3) / 2 in [−1, 1], as GET /v1/videos/:id shows it, over the "
      + 'viewers who rated it. Cluster-robust 95% interval.',
  },
];

export const DIMENSION_METRIC_DESCRIPTION: Readonly<Record<string, string>> = Object.fromEntries(DIMENSION_METRICS.map((m) => [m.key, m.description]));
