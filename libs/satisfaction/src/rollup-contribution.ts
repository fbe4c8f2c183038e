import { SignalState } from '@flywheel/contracts';
import { SatisfactionPolicyParams, effectiveWatchRatio, scoreSignals } from './satisfaction-policy';
import { WatchQuantiles } from './watch-quantiles';

/**
 * The counters one (video, user) row adds to its hourly rollup. A rollup is the plain sum of its rows'
 * contributions, so an update is "subtract the old contribution, add the new one": an unlike takes the like back
 * out, a late generation moves the row from the unattributed group to its model version.
 */
export const ROLLUP_COUNTERS = [
  'viewers', 'impressions', 'plays', 'completions', 'likes', 'favorites', 'shares', 'downloads', 'exports', 'comments',
  'chosen', 'passed_over', 'regenerates', 'discards', 'dislikes', 'reports', 'rating_sum', 'rating_count', 'watch_n',
  'watch_sum', 'watch_sumsq', 'sat_sum', 'sat_sumsq',
] as const;
export type RollupCounter = (typeof ROLLUP_COUNTERS)[number];
export type Contribution = Float64Array; // indexed like ROLLUP_COUNTERS

const b = (flag: boolean) => (flag ? 1 : 0);

/** The counters of one row, given its state and the satisfaction score it was given. */
export function contributionOf(state: SignalState, satisfaction: number): Contribution {
  const watch = effectiveWatchRatio(state);
  return Float64Array.of(
    1, b(state.impressed), b(state.played), b(state.completed), b(state.liked), b(state.favorited), b(state.shared),
    b(state.downloaded), b(state.exported), b(state.commented), b(state.chosen), b(state.passedOver && !state.chosen),
    b(state.regenerated), b(state.discarded), b(state.disliked), b(state.reported),
    state.rating ?? 0, state.rating === null ? 0 : 1,
    watch === null ? 0 : 1, watch ?? 0, watch === null ? 0 : watch * watch,
    satisfaction, satisfaction * satisfaction,
  );
}

export function scoreAndContribute(state: SignalState, policy: SatisfactionPolicyParams, quantiles: WatchQuantiles): { satisfaction: number; contribution: Contribution } {
  const satisfaction = Math.fround(scoreSignals(state, policy, quantiles)); // stored as real: add what is stored
  return { satisfaction, contribution: contributionOf(state, satisfaction) };
}
