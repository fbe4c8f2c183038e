import { emptySignalState } from '@flywheel/contracts';
import { ROLLUP_COUNTERS, contributionInto, contributionOf } from './rollup-contribution';

/** A contribution read back by counter name. */
const named = (values: Float64Array) => Object.fromEntries(ROLLUP_COUNTERS.map((c, i) => [c, values[i]]));

describe('rollup contribution of one (video, user) row', () => {
  it('names every counter by the state it comes from', () => {
    const state = {
      ...emptySignalState(), impressed: true, played: true, liked: true, shared: true, commented: true, passedOver: true,
      discarded: true, reported: true, rating: 4, maxWatchRatio: 0.5,
    };
    expect(named(contributionOf(state, 0.25))).toEqual({
      viewers: 1, impressions: 1, plays: 1, completions: 0, likes: 1, favorites: 0, shares: 1, downloads: 0, exports: 0,
      comments: 1, chosen: 0, passed_over: 1, regenerates: 0, discards: 1, dislikes: 0, reports: 1, rating_sum: 4,
      rating_count: 1, watch_n: 1, watch_sum: 0.5, watch_sumsq: 0.25, sat_sum: 0.25, sat_sumsq: 0.0625,
    });
    const other = { ...emptySignalState(), completed: true, favorited: true, downloaded: true, exported: true, chosen: true,
      passedOver: true, regenerated: true, disliked: true };
    expect(named(contributionOf(other, -1))).toEqual({
      viewers: 1, impressions: 0, plays: 0, completions: 1, likes: 0, favorites: 1, shares: 0, downloads: 1, exports: 1,
      comments: 0, chosen: 1, passed_over: 0, regenerates: 1, discards: 0, dislikes: 1, reports: 0, rating_sum: 0,
      rating_count: 0, watch_n: 1, watch_sum: 1, watch_sumsq: 1, sat_sum: -1, sat_sumsq: 1,
    });
    expect(named(contributionOf(emptySignalState(), 0))).toMatchObject({ viewers: 1, watch_n: 0, watch_sum: 0, rating_count: 0 });
  });

  it('contributionInto overwrites every counter of the buffer it is given', () => {
    const out = new Float64Array(ROLLUP_COUNTERS.length).fill(7);
    const state = { ...emptySignalState(), liked: true };
    expect(Array.from(contributionInto(out, state, 0.5))).toEqual(Array.from(contributionOf(state, 0.5)));
  });
});
