/**
 * Satisfaction policy: what one user's signals on one video say about how satisfied they were, as a score in
 * (-1, 1). The rules (v1):
 *
 * 1. Signals add up into a raw score; the score is tanh(raw), so it stays in (-1, 1), keeps the order of raw scores,
 *    and piling up positives gives diminishing returns (like ≈ 0.76, like + share + export ≈ 0.99).
 * 2. Explicit positives add their weight when present: like, favorite, share, download, export, comment, chosen.
 * 3. Explicit negatives subtract their weight when present: dislike, discard, report, regenerate, passedOver.
 * 4. Only the current state counts: toggles are folded before scoring, so `unlike` after `like` gives no like credit.
 * 5. A video that was both chosen and passed over (chosen in one round, beaten in another) counts as chosen only.
 * 6. The overall rating 1–5 counts linearly around the neutral 3: 5 adds `highRating`, 4 half of it, 2 subtracts
 *    half of `lowRating`, 1 all of it. Dimension ratings (visual_quality, …): in v1 they do not enter the overall
 *    score; from v2, when a user gave dimension ratings but no overall rating, the mean of their dimension ratings
 *    counts as their overall rating (an overall rating, when given, always wins). Each dimension also has its own
 *    satisfaction, (rating − 3) / 2 ∈ [−1, 1] (see dimensionSatisfaction).
 * 7. A play adds the small `play` weight.
 * 8. Watch time counts relative to videos of similar duration: the watch ratio (highest watchMs / durationMs, at
 *    least 1 when the video was completed, capped at 1.5) is ranked inside its duration bucket (see
 *    watch-quantiles.ts); the centred rank 2·rank − 1 ∈ [-1, 1] is multiplied by `watch`. No watch ratio, no watch
 *    contribution: a duration-less view without completion says nothing relative.
 * 9. An impression alone is not evidence, so a video with no signal at all scores exactly 0.
 *
 * Explicit signals dominate: a like alone outweighs the best possible play and watch time together, and a dislike
 * alone the worst. A policy is immutable once released: preference sets record its id, so a change is a new version.
 */
import type { SignalState } from '@flywheel/contracts';
import { WatchQuantiles, clampRatio, durationBucket, quantileRank } from './watch-quantiles';

export interface SatisfactionPolicyParams {
  readonly id: string;
  /** Added when the signal is present. */
  readonly positive: Readonly<{
    like: number; favorite: number; share: number; download: number; export: number; comment: number;
    chosen: number; highRating: number;
  }>;
  /** Subtracted when the signal is present (magnitudes, ≥ 0). */
  readonly negative: Readonly<{
    dislike: number; discard: number; report: number; regenerate: number; passedOver: number; lowRating: number;
  }>;
  readonly play: number;
  /** The watch contribution spans [-watch, +watch]. */
  readonly watch: number;
  /** Per-video aggregation: scores shrink toward `priorMean` as if `priorStrength` extra users had scored it. */
  readonly shrinkage: Readonly<{ priorMean: number; priorStrength: number }>;
  /**
   * 'ignored' (v1): dimension ratings do not enter the overall score. 'overall-fallback' (v2): without an overall
   * rating, the mean of the user's dimension ratings is used as one.
   */
  readonly dimensionRatings?: 'ignored' | 'overall-fallback';
}

/**
 * v1. The explicit weights are product judgement: exporting (using the video in an edit or publishing it) is the
 * strongest outcome, a report the strongest rejection; regenerating and being passed over are mild because they say
 * "another take", not "bad take". `play`, `watch` and `comment` were chosen on the KuaiRand like/hate log
 * (scripts/eval-policy.ts): play:watch ≈ 1:4 separates likes from hates best there.
 */
export const POLICY_V1: SatisfactionPolicyParams = {
  id: 'v1',
  positive: {
    like: 1, favorite: 1, share: 0.8, download: 0.8, export: 1.2, comment: 0.3, chosen: 0.8, highRating: 1,
  },
  negative: { dislike: 1, discard: 0.8, report: 2, regenerate: 0.5, passedOver: 0.3, lowRating: 1 },
  play: 0.1,
  watch: 0.4,
  shrinkage: { priorMean: 0, priorStrength: 5 },
};

/**
 * v2 = v1 plus rule 6's fallback: a user who rated only dimensions (visual_quality, motion_quality, …) is scored by
 * the mean of those ratings, as if it were their overall rating. Under v1 such a user scored 0: a project fed with
 * per-dimension ratings alone had every video's satisfaction at 0 and no preference pair to train on.
 */
export const POLICY_V2: SatisfactionPolicyParams = { ...POLICY_V1, id: 'v2', dimensionRatings: 'overall-fallback' };

/** Every released policy by id, so a preference set's recorded policy version can be resolved. */
export const SATISFACTION_POLICIES: Readonly<Record<string, SatisfactionPolicyParams>> = {
  [POLICY_V1.id]: POLICY_V1,
  [POLICY_V2.id]: POLICY_V2,
};

/** The policy the ingest-worker scores with; rollups and derived data record its id. */
export const CURRENT_POLICY: SatisfactionPolicyParams = POLICY_V2;

const NEUTRAL_RATING = 3;
const RATING_HALF_RANGE = 2;

export function scoreSignals(
  state: SignalState,
  params: SatisfactionPolicyParams,
  watchQuantiles: WatchQuantiles,
): number {
  const { positive, negative } = params;
  let raw = 0;
  if (state.liked) raw += positive.like;
  if (state.favorited) raw += positive.favorite;
  if (state.shared) raw += positive.share;
  if (state.downloaded) raw += positive.download;
  if (state.exported) raw += positive.export;
  if (state.commented) raw += positive.comment;
  if (state.chosen) raw += positive.chosen;
  else if (state.passedOver) raw -= negative.passedOver;
  if (state.disliked) raw -= negative.dislike;
  if (state.discarded) raw -= negative.discard;
  if (state.reported) raw -= negative.report;
  if (state.regenerated) raw -= negative.regenerate;
  const rating = state.rating ?? (params.dimensionRatings === 'overall-fallback' ? meanDimensionRating(state) : null);
  if (rating !== null) {
    const centred = Math.max(-1, Math.min(1, (rating - NEUTRAL_RATING) / RATING_HALF_RANGE));
    raw += centred * (centred > 0 ? positive.highRating : negative.lowRating);
  }
  if (state.played) raw += params.play;
  const ratio = effectiveWatchRatio(state);
  if (ratio !== null) {
    const rank = quantileRank(watchQuantiles[durationBucket(state.durationMs)].knots, ratio);
    raw += params.watch * (2 * rank - 1);
  }
  return Math.tanh(raw);
}

/** Mean of a user's dimension ratings, or null without any. */
export function meanDimensionRating(state: Pick<SignalState, 'dimensionRatings'>): number | null {
  const values = Object.values(state.dimensionRatings ?? {});
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

/** One user's satisfaction per rated dimension: (rating − 3) / 2 ∈ [−1, 1]. */
export function dimensionSatisfaction(state: Pick<SignalState, 'dimensionRatings'>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, rating] of Object.entries(state.dimensionRatings ?? {})) {
    out[name] = Math.max(-1, Math.min(1, (rating - NEUTRAL_RATING) / RATING_HALF_RANGE));
  }
  return out;
}

/**
 * The watch ratio the policy ranks: the highest seen, raised to 1 when the video was completed (a lost progress
 * event must not make a completion look partial), capped at 1.5; null when there is no watch evidence. Feed the
 * same value to learnWatchQuantiles so learning and scoring agree.
 */
export function effectiveWatchRatio(state: SignalState): number | null {
  if (state.completed) return clampRatio(Math.max(state.maxWatchRatio ?? 1, 1));
  return state.maxWatchRatio === null || Number.isNaN(state.maxWatchRatio) ? null : clampRatio(state.maxWatchRatio);
}

export function shrunkMean(sum: number, n: number, priorMean: number, priorStrength: number): number {
  return (sum + priorMean * priorStrength) / (n + priorStrength);
}

export interface VideoSatisfaction {
  /** Plain mean of the users' scores; null when nobody scored the video. */
  mean: number | null;
  n: number;
  /** Mean shrunk toward the prior: what to rank videos by. */
  shrunk: number;
}

/** Aggregates the per-user scores of one video. */
export function aggregateVideoScores(
  userScores: Iterable<number>,
  shrinkage: SatisfactionPolicyParams['shrinkage'],
): VideoSatisfaction {
  let sum = 0;
  let n = 0;
  for (const score of userScores) {
    sum += score;
    n += 1;
  }
  return {
    mean: n === 0 ? null : sum / n,
    n,
    shrunk: shrunkMean(sum, n, shrinkage.priorMean, shrinkage.priorStrength),
  };
}
