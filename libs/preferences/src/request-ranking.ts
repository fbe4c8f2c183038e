import { compareStrings } from './canonical-encoding';
import type { RankedCandidate, RankedRequest, RankingScore, VideoEvidence } from './preference.types';

export interface RankRequestsOptions {
  /** Requests with fewer ranked candidates are left out (a ranking of one says nothing). Default 2. */
  minCandidates?: number;
  /** Only candidates with at least this many users with signals (default 0: all, with their n). */
  minEvidence?: number;
}

/**
 * Ranked candidate lists per request: 'observed' ranks by `satShrunk`, 'reward_model' by `rewardScore` (candidates
 * without one are left out). Candidates best first, equal scores by video id; requests by request id. The prompt is
 * that of the request's first candidate by video id (candidates of one request share it).
 */
export function rankRequests(
  videos: readonly VideoEvidence[],
  score: RankingScore,
  options: RankRequestsOptions = {},
): RankedRequest[] {
  const minCandidates = options.minCandidates ?? 2;
  const minEvidence = options.minEvidence ?? 0;
  const byRequest = new Map<string, VideoEvidence[]>();
  for (const v of videos) {
    const s = score === 'observed' ? v.satShrunk : v.rewardScore;
    if (s === undefined || !Number.isFinite(s) || v.n < minEvidence) continue;
    const list = byRequest.get(v.requestId);
    if (list) list.push(v);
    else byRequest.set(v.requestId, [v]);
  }
  const ranked: RankedRequest[] = [];
  for (const requestId of [...byRequest.keys()].sort(compareStrings)) {
    const list = byRequest.get(requestId)!;
    if (list.length < Math.max(1, minCandidates)) continue;
    const first = list.reduce((a, b) => (compareStrings(b.videoId, a.videoId) < 0 ? b : a));
    const candidates: RankedCandidate[] = list.map((v) => ({
      videoId: v.videoId, uri: v.uri, score: score === 'observed' ? v.satShrunk : (v.rewardScore as number), n: v.n,
    }));
    candidates.sort((a, b) => b.score - a.score || compareStrings(a.videoId, b.videoId));
    ranked.push({ requestId, prompt: first.prompt, source: score, candidates });
  }
  return ranked;
}
