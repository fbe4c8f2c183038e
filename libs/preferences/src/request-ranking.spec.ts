import type { VideoEvidence } from './preference.types';
import { rankRequests } from './request-ranking';

const v = (videoId: string, requestId: string, n: number, satShrunk: number, rewardScore?: number): VideoEvidence => ({
  videoId, requestId, promptNorm: requestId, prompt: `prompt of ${requestId}`, modelVersion: 'm1',
  uri: videoId === 'b2' ? null : `s3://${videoId}`, n, satMean: satShrunk, satShrunk, rewardScore,
});

const VIDEOS = [
  v('b1', 'rb', 3, 0.1, 2), v('b2', 'rb', 0, 0.1, 5), v('b3', 'rb', 7, 0.6),
  v('a2', 'ra', 1, -0.2, 1), v('a1', 'ra', 4, 0.3, 0.5),
  v('c1', 'rc', 2, 0.9, 1),
];

describe('rankRequests', () => {
  it('ranks the candidates of each request by observed shrunk satisfaction, best first, ties by video id', () => {
    expect(rankRequests(VIDEOS, 'observed')).toEqual([
      { requestId: 'ra', prompt: 'prompt of ra', source: 'observed', candidates: [
        { videoId: 'a1', uri: 's3://a1', score: 0.3, n: 4 }, { videoId: 'a2', uri: 's3://a2', score: -0.2, n: 1 },
      ] },
      { requestId: 'rb', prompt: 'prompt of rb', source: 'observed', candidates: [
        { videoId: 'b3', uri: 's3://b3', score: 0.6, n: 7 }, { videoId: 'b1', uri: 's3://b1', score: 0.1, n: 3 },
        { videoId: 'b2', uri: null, score: 0.1, n: 0 },
      ] },
    ]);
  });

  it('ranks by reward score, leaving out candidates without one', () => {
    expect(rankRequests(VIDEOS, 'reward_model').map((r) => [r.requestId, r.source, r.candidates.map((c) => `${c.videoId}:${c.score}`)])).toEqual([
      ['ra', 'reward_model', ['a2:1', 'a1:0.5']],
      ['rb', 'reward_model', ['b2:5', 'b1:2']],
    ]);
  });

  it('applies minEvidence and minCandidates', () => {
    expect(rankRequests(VIDEOS, 'observed', { minEvidence: 2 }).map((r) => r.requestId)).toEqual(['rb']);
    expect(rankRequests(VIDEOS, 'observed', { minCandidates: 1 }).map((r) => r.requestId)).toEqual(['ra', 'rb', 'rc']);
  });
});
