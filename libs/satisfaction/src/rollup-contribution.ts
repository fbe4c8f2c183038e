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
  return contributionInto(new Float64Array(ROLLUP_COUNTERS.length), state, satisfaction);
}

/** contributionOf written into `out` (ROLLUP_COUNTERS.length long), for a caller that uses it at once: no allocation. */
export function contributionInto(out: Contribution, state: SignalState, satisfaction: number): Contribution {
  const watch = effectiveWatchRatio(state);
  out[0] = 1;
  out[1] = b(state.impressed);
  out[2] = b(state.played);
  out[3] = b(state.completed);
  out[4] = b(state.liked);
  out[5] = b(state.favorited);
  out[6] = b(state.shared);
  out[7] = b(state.downloaded);
  out[8] = b(state.exported);
  out[9] = b(state.commented);
  out[10] = b(state.chosen);
  out[11] = b(state.passedOver && !state.chosen);
  out[12] = b(state.regenerated);
  out[13] = b(state.discarded);
  out[14] = b(state.disliked);
  out[15] = b(state.reported);
  out[16] = state.rating ?? 0;
  out[17] = state.rating === null ? 0 : 1;
  out[18] = watch === null ? 0 : 1;
  out[19] = watch ?? 0;
  out[20] = watch === null ? 0 : watch * watch;
  out[21] = satisfaction;
  out[22] = satisfaction * satisfaction;
  return out;
}

/** The satisfaction score a row is given and rolled up with: the policy's score, as stored (a real). */
export function scoreOf(state: SignalState, policy: SatisfactionPolicyParams, quantiles: WatchQuantiles): number {
  return Math.fround(scoreSignals(state, policy, quantiles)); // stored as real: add what is stored
}

export function scoreAndContribute(state: SignalState, policy: SatisfactionPolicyParams, quantiles: WatchQuantiles): { satisfaction: number; contribution: Contribution } {
  const satisfaction = scoreOf(state, policy, quantiles);
  return { satisfaction, contribution: contributionOf(state, satisfaction) };
}
