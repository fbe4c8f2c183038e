import { RollupColumn } from '@flywheel/database';

/**
 * The metrics a dashboard answer holds, and what each is over. "Viewers" are (video, user) rows: one per user who did
 * anything with a video, counted in the hour of their first event. Flags are the current state, so an `unlike`
 * takes a like back out.
 */
export interface RateMetric {
  kind: 'rate';
  key: string;
  successes: RollupColumn;
  denominator: RollupColumn;
  description: string;
}

export interface MeanMetric {
  kind: 'mean';
  key: string;
  n: RollupColumn;
  sum: RollupColumn;
  sumSq: RollupColumn;
  description: string;
}

export type MetricDefinition = RateMetric | MeanMetric;

const rate = (key: string, successes: RollupColumn, denominator: RollupColumn, description: string): RateMetric =>
  ({ kind: 'rate', key, successes, denominator, description });

export const METRICS: readonly MetricDefinition[] = [
  rate('like', 'likes', 'viewers', 'Liked (current state) / viewers. Wilson 95% interval.'),
  rate('favorite', 'favorites', 'viewers', 'Favorited (current state) / viewers. Wilson 95% interval.'),
  rate('share', 'shares', 'viewers', 'Shared / viewers. Wilson 95% interval.'),
  rate('download', 'downloads', 'viewers', 'Downloaded / viewers. Wilson 95% interval.'),
  rate('export', 'exports', 'viewers', 'Exported (used in an edit or published) / viewers. Wilson 95% interval.'),
  rate('completion', 'completions', 'plays', 'Completed / viewers who played the video (not / all viewers). Wilson 95% interval.'),
  rate('regenerate', 'regenerates', 'viewers', 'Asked for another take / viewers. Wilson 95% interval.'),
  rate('discard', 'discards', 'viewers', 'Discarded / viewers. Wilson 95% interval.'),
  rate('dislike', 'dislikes', 'viewers', 'Disliked ("not interested") / viewers. Wilson 95% interval.'),
  {
    kind: 'mean', key: 'watchRatio', n: 'watch_n', sum: 'watch_sum', sumSq: 'watch_sumsq',
    description: 'Mean watch ratio (highest watchMs / durationMs; at least 1 when completed; capped at 1.5) over the '
      + 'viewers with watch evidence (n). Normal 95% interval from the sample variance.',
  },
  {
    kind: 'mean', key: 'satisfaction', n: 'viewers', sum: 'sat_sum', sumSq: 'sat_sumsq',
    description: 'Mean satisfaction score in (-1, 1) of the policy (libs/satisfaction, v1) over all viewers; a viewer '
      + 'with no signal beyond an impression scores 0. Normal 95% interval from the sample variance.',
  },
];

export const METRIC_KEYS = METRICS.map((m) => m.key);

export const METRIC_DESCRIPTION: Readonly<Record<string, string>> = Object.fromEntries(METRICS.map((m) => [m.key, m.description]));
