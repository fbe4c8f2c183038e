import { compareStrings } from './canonical-encoding';
import { splitOf } from './group-hash';
import type { SplitRatios, VideoEvidence, VideoOutcome } from './preference.types';

export interface OutcomeOptions {
  /** Videos with fewer users with signals are left out (a video nobody reacted to has no outcome: at least 1). */
  minEvidence: number;
  splitRatios: SplitRatios;
  seed: number;
}

/** A dimension's mean rating (1–5) on the satisfaction scale: (rating − 3) / 2, as each dimension's satisfaction. */
export function dimensionReward(meanRating: number): number {
  return (meanRating - 3) / 2;
}

/**
 * One outcome per observed video (n ≥ max(1, minEvidence), finite shrunk satisfaction), ordered by request id then
 * video id, so one request's candidates are consecutive. The split is the pairs' split of the video's prompt
 * (unitHash of `prompt:<promptNorm>` with the same seed and ratios), so a prompt is in one split across pairs,
 * kto-jsonl and groups-jsonl. `rewards` leaves out the overall star rating (it is part of `reward` already).
 */
export function videoOutcomes(videos: readonly VideoEvidence[], options: OutcomeOptions): VideoOutcome[] {
  const minN = Math.max(1, options.minEvidence);
  const out: VideoOutcome[] = [];
  for (const v of videos) {
    if (v.n < minN || !Number.isFinite(v.satShrunk)) continue;
    const rewards: Record<string, number> = {};
    for (const [name, mean] of Object.entries(v.dimensionScores ?? {})) {
      if (name !== 'overall' && Number.isFinite(mean)) rewards[name] = dimensionReward(mean);
    }
    const positive = v.positive ?? 0;
    const negative = v.negative ?? 0;
    out.push({
      videoId: v.videoId, requestId: v.requestId, prompt: v.prompt, promptNorm: v.promptNorm, uri: v.uri,
      modelVersion: v.modelVersion, split: splitOf(`prompt:${v.promptNorm}`, options.seed, options.splitRatios), n: v.n,
      reward: v.satShrunk, rewards, positive, negative, label: positive > negative ? true : negative > positive ? false : null,
      fps: v.fps ?? null, numFrames: v.numFrames ?? null,
    });
  }
  return out.sort((a, b) => compareStrings(a.requestId, b.requestId) || compareStrings(a.videoId, b.videoId));
}
