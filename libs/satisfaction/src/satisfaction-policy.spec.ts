import { SignalState, emptySignalState } from '@flywheel/contracts';
import {
  CURRENT_POLICY, POLICY_V1, POLICY_V2, SATISFACTION_POLICIES, aggregateVideoScores, dimensionSatisfaction, effectiveWatchRatio,
  meanDimensionRating, scoreSignals, shrunkMean,
} from './satisfaction-policy';
import { DEFAULT_WATCH_QUANTILES, WatchSample, learnWatchQuantiles } from './watch-quantiles';

const state = (signals: Partial<SignalState>): SignalState => ({ ...emptySignalState(), ...signals });
const score = (signals: Partial<SignalState>) => scoreSignals(state(signals), POLICY_V1, DEFAULT_WATCH_QUANTILES);
const watched = (durationMs: number, ratio: number): Partial<SignalState> =>
  ({ impressed: true, played: true, durationMs, maxWatchRatio: ratio, maxWatchMs: durationMs * ratio });

describe('satisfaction policy v1', () => {
  it('carries its version id and is registered under it', () => {
    expect(POLICY_V1.id).toBe('v1');
    expect(SATISFACTION_POLICIES.v1).toBe(POLICY_V1);
  });

  it('scores a video with no signal, or only an impression, exactly 0', () => {
    expect(score({})).toBe(0);
    expect(score({ impressed: true })).toBe(0);
  });

  it('raises the score for a like', () => {
    expect(score({ liked: true })).toBeCloseTo(Math.tanh(POLICY_V1.positive.like), 12);
    expect(score({ ...watched(20_000, 0.5), liked: true })).toBeGreaterThan(score(watched(20_000, 0.5)));
  });

  it('gives no like credit once the like was toggled off', () => {
    // The fold leaves liked=false after like → unlike.
    expect(score({ ...watched(20_000, 0.5), liked: false })).toBe(score(watched(20_000, 0.5)));
  });

  const positives = ['favorited', 'shared', 'downloaded', 'exported', 'commented'] as const;
  it.each(positives)('raises the score for %s', (flag) => {
    expect(score({ ...watched(20_000, 0.5), [flag]: true })).toBeGreaterThan(score(watched(20_000, 0.5)));
  });

  it.each(['disliked', 'discarded', 'reported', 'regenerated'] as const)('lowers the score for %s', (flag) => {
    expect(score({ ...watched(20_000, 0.5), [flag]: true })).toBeLessThan(score(watched(20_000, 0.5)));
  });

  it('ranks a report below a dislike', () => {
    expect(score({ reported: true })).toBeLessThan(score({ disliked: true }));
  });

  it('lets a like outweigh any watch time, and a dislike likewise', () => {
    expect(score({ ...watched(20_000, 0), liked: true })).toBeGreaterThan(score(watched(20_000, 1.5)));
    expect(score({ ...watched(20_000, 1.5), disliked: true })).toBeLessThan(score(watched(20_000, 0)));
  });

  it('rewards being chosen, penalises being passed over, and counts chosen-and-passed-over as chosen', () => {
    expect(score({ chosen: true })).toBeGreaterThan(0);
    expect(score({ passedOver: true })).toBeLessThan(0);
    expect(score({ chosen: true, passedOver: true })).toBe(score({ chosen: true }));
  });

  it('orders overall ratings 1 < 2 < 3 = no rating < 4 < 5', () => {
    const byRating = [1, 2, 3, 4, 5].map((rating) => score({ rating }));
    expect(byRating[2]).toBe(0);
    byRating.slice(1).forEach((s, i) => expect(s).toBeGreaterThan(byRating[i]));
    expect(byRating[0]).toBeCloseTo(-Math.tanh(POLICY_V1.negative.lowRating), 12);
    expect(byRating[4]).toBeCloseTo(Math.tanh(POLICY_V1.positive.highRating), 12);
  });

  it('leaves dimension ratings out of the overall score', () => {
    expect(score({ dimensionRatings: { visual_quality: 1 } })).toBe(0);
  });

  it('judges watch time relative to the duration bucket: finishing a long video says more than a short one', () => {
    const shortFinished = score(watched(10_000, 1));
    const longFinished = score(watched(120_000, 1));
    expect(longFinished).toBeGreaterThan(shortFinished);
    // Half of a 2 min video is above that bucket's median, half of a 10 s clip is below its own.
    expect(score(watched(120_000, 0.5))).toBeGreaterThan(Math.tanh(POLICY_V1.play));
    expect(score(watched(10_000, 0.5))).toBeLessThan(Math.tanh(POLICY_V1.play));
  });

  it('uses the learned quantiles, so the same view scores differently on different data', () => {
    const views = (from: number): WatchSample[] =>
      Array.from({ length: 500 }, (_, i) => ({ durationMs: 10_000, watchRatio: from + i / 1000 }));
    const [bingeing, skimming] = [views(1), views(0)];
    const view = state(watched(10_000, 0.9));
    expect(scoreSignals(view, POLICY_V1, learnWatchQuantiles(bingeing, 200)))
      .toBeCloseTo(Math.tanh(POLICY_V1.play - POLICY_V1.watch), 12);
    expect(scoreSignals(view, POLICY_V1, learnWatchQuantiles(skimming, 200)))
      .toBeCloseTo(Math.tanh(POLICY_V1.play + POLICY_V1.watch), 12);
  });

  it('gives no watch credit or penalty without a watch ratio', () => {
    expect(score({ played: true, maxWatchMs: 4_000 })).toBeCloseTo(Math.tanh(POLICY_V1.play), 12);
  });

  it('stays inside (-1, 1) however many signals pile up', () => {
    const everything = score({
      ...watched(60_000, 1.5), liked: true, favorited: true, shared: true, downloaded: true, exported: true,
      commented: true, chosen: true, rating: 5,
    });
    expect(everything).toBeGreaterThan(0.99);
    expect(everything).toBeLessThan(1);
  });
});

describe('effectiveWatchRatio', () => {
  it('treats a completion as a ratio of at least 1, even without progress', () => {
    expect(effectiveWatchRatio(state({ completed: true }))).toBe(1);
    expect(effectiveWatchRatio(state({ completed: true, maxWatchRatio: 0.9 }))).toBe(1);
    expect(effectiveWatchRatio(state({ completed: true, maxWatchRatio: 1.3 }))).toBe(1.3);
  });

  it('caps at 1.5 and is null without evidence', () => {
    expect(effectiveWatchRatio(state({ maxWatchRatio: 3 }))).toBe(1.5);
    expect(effectiveWatchRatio(state({ played: true }))).toBeNull();
  });
});

describe('per-video aggregation', () => {
  it('shrinks toward the prior by the prior strength', () => {
    expect(shrunkMean(1, 1, 0, 5)).toBeCloseTo(1 / 6, 12);
    expect(shrunkMean(0, 0, 0.2, 5)).toBeCloseTo(0.2, 12);
  });

  it('ranks a video loved by a hundred users above one loved by a single user', () => {
    const single = aggregateVideoScores([0.95], POLICY_V1.shrinkage);
    const hundred = aggregateVideoScores(Array.from({ length: 100 }, () => 0.8), POLICY_V1.shrinkage);
    expect(single.mean).toBeGreaterThan(hundred.mean!);
    expect(hundred.shrunk).toBeGreaterThan(single.shrunk);
    expect(hundred).toEqual({ mean: expect.closeTo(0.8, 12), n: 100, shrunk: expect.closeTo(80 / 105, 12) });
  });

  it('has no mean but the prior as shrunk value when nobody scored the video', () => {
    expect(aggregateVideoScores([], { priorMean: 0.1, priorStrength: 5 })).toEqual({ mean: null, n: 0, shrunk: 0.1 });
  });
});

describe('satisfaction policy v2: dimension ratings', () => {
  const v2 = (signals: Partial<SignalState>) => scoreSignals(state(signals), POLICY_V2, DEFAULT_WATCH_QUANTILES);

  it('is the current policy and registered under its id', () => {
    expect(CURRENT_POLICY).toBe(POLICY_V2);
    expect(SATISFACTION_POLICIES.v2).toBe(POLICY_V2);
  });

  it('scores a user who rated only dimensions by the mean of those ratings, as an overall rating', () => {
    const onlyDimensions = { dimensionRatings: { visual_quality: 5, motion_quality: 4, text_alignment: 3 } };
    expect(v2(onlyDimensions)).toBeCloseTo(v2({ rating: 4 }), 12);
    expect(v2({ dimensionRatings: { visual_quality: 1 } })).toBeCloseTo(v2({ rating: 1 }), 12);
    // v1 dropped them: that user scored 0.
    expect(score(onlyDimensions)).toBe(0);
  });

  it('lets an overall rating, when given, win over dimension ratings', () => {
    expect(v2({ rating: 2, dimensionRatings: { visual_quality: 5 } })).toBeCloseTo(v2({ rating: 2 }), 12);
  });

  it('gives each dimension its own satisfaction in [−1, 1]', () => {
    expect(dimensionSatisfaction(state({ dimensionRatings: { visual_quality: 5, motion_quality: 2 } }))).toEqual({ visual_quality: 1, motion_quality: -0.5 });
    expect(meanDimensionRating(state({}))).toBeNull();
  });
});
