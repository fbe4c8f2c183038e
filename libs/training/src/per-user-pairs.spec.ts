import { DEFAULT_PAIR_OPTIONS, splitOf } from '@flywheel/preferences';
import { PAIR_SPLIT } from '@flywheel/reward-model';
import { perUserPairs, withPerUserTraining } from './per-user-pairs';

describe('perUserPairs', () => {
  const videos = [
    { videoId: 'a', requestId: 'r1', promptNorm: 'cat' },
    { videoId: 'b', requestId: 'r1', promptNorm: 'cat' },
    { videoId: 'c', requestId: 'r1', promptNorm: 'cat' },
    { videoId: 'd', requestId: 'r2', promptNorm: 'dog' },
  ];
  const index = new Map(videos.map((v, i) => [v.videoId, i]));
  const row = (userHash: string, videoId: string, rating: number) => ({ userHash, videoId, satisfaction: (rating - 3) / 2, dimensions: { visual_quality: rating } });

  it("pairs each user's own scores of one request's candidates: a 2-to-1 split gives two pairs one way and one the other", () => {
    const ratings = [
      row('u1', 'a', 5), row('u1', 'b', 3), row('u1', 'c', 3),
      row('u2', 'a', 4), row('u2', 'b', 2),
      row('u3', 'a', 1), row('u3', 'b', 2),
      // One user, two requests: never paired across requests.
      row('u1', 'd', 1),
    ];
    const pairs = perUserPairs(videos, ratings, (r) => r.dimensions.visual_quality, index, 1);
    const named = [...pairs.a].map((a, p) => `${videos[a].videoId}>${videos[pairs.b[p]].videoId}`);
    // u1: a>b, a>c (b = c is a tie, no pair); u2: a>b; u3: b>a. The mean ratings (a 3.33, b 2.33) hide u3's judgement.
    expect(named).toEqual(['a>b', 'a>c', 'a>b', 'b>a']);
    const split = splitOf('prompt:cat', 1, DEFAULT_PAIR_OPTIONS.splitRatios);
    expect([...pairs.split]).toEqual(Array(4).fill({ train: PAIR_SPLIT.train, validation: PAIR_SPLIT.validation, test: PAIR_SPLIT.test }[split]));
  });

  it('drops pairs below minMargin and videos it cannot index', () => {
    const ratings = [row('u1', 'a', 4), row('u1', 'b', 3.95), row('u1', 'x', 1)];
    expect(perUserPairs(videos, ratings, (r) => r.satisfaction, index, 1, 0.05).a).toHaveLength(0);
    expect(perUserPairs(videos, ratings, (r) => r.satisfaction, index, 1, 0).a).toHaveLength(1);
  });

  it('trains on the per-user pairs and keeps the aggregate validation and test pairs', () => {
    const { train, validation, test } = PAIR_SPLIT;
    const aggregate = { a: Int32Array.of(0, 1, 2), b: Int32Array.of(1, 2, 3), split: Uint8Array.of(train, validation, test), outcome: Float32Array.of(1, 0.5, 1), weight: Float32Array.of(1, 2, 3) };
    const perUser = { a: Int32Array.of(3, 2, 1), b: Int32Array.of(0, 0, 0), split: Uint8Array.of(train, test, train) };
    const merged = withPerUserTraining(aggregate, perUser);
    expect([...merged.a]).toEqual([3, 1, 1, 2]);
    expect([...merged.b]).toEqual([0, 0, 2, 3]);
    expect([...merged.split]).toEqual([train, train, validation, test]);
    expect([...merged.outcome]).toEqual([1, 1, 0.5, 1]);
    expect([...merged.weight]).toEqual([1, 1, 2, 3]);
  });
});
