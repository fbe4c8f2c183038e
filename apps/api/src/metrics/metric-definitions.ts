import { RollupColumn } from '@flywheel/database';

/**
 * The metrics a dashboard answer holds, and what each is over. "Viewers" are (video, user) rows: one per user who did
 * anything with a video, counted in the hour of their first event. Flags are the current state, so an `unlike`
 * takes a like back out.
 */
export interface RateMetric {
  kind: 'rate';
  key: string;
  /** What the dashboard page calls it. */
  label: string;
  /** 1: higher is better for users (likes); -1: lower is (discards). The page colours differences by it. */
  better: 1 | -1;
  successes: RollupColumn;
  denominator: RollupColumn;
  description: string;
}

export interface MeanMetric {
  kind: 'mean';
  key: string;
  label: string;
  better: 1 | -1;
  n: RollupColumn;
  sum: RollupColumn;
  sumSq: RollupColumn;
  description: string;
}

export type MetricDefinition = RateMetric | MeanMetric;

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
