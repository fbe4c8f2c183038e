import { toPairRows } from './pair-rows';
import type { Pair, VideoEvidence } from './preference.types';
import { PreferencesError } from './preferences.errors';

const base = { promptNorm: 'p', n: 3, satMean: 0, satShrunk: 0 };
const VIDEOS: VideoEvidence[] = [
  { ...base, videoId: 'a', requestId: 'r1', prompt: 'A cat', modelVersion: 'm1', uri: 's3://a', fps: 24, numFrames: 121,
    dimensionScores: { visual_quality: 4.5, motion_quality: 3, text_alignment: 4 } },
  { ...base, videoId: 'b', requestId: 'r1', prompt: 'A cat', modelVersion: 'm1', uri: null, dimensionScores: { visual_quality: 4, text_alignment: 4 } },
  { ...base, videoId: 'c', requestId: 'r2', prompt: 'A dog', modelVersion: 'm2', uri: 's3://c' },
];

const pair = (chosenId: string, rejectedId: string, extra: Partial<Pair> = {}): Pair => ({
  chosenId, rejectedId, margin: 0.5, tie: false, weight: 1, scope: 'request', groupKey: 'request:r1', split: 'train',
  source: 'observed', ...extra,
});

describe('toPairRows', () => {
  it('joins pairs with their videos: URIs, shared request and version, per-dimension differences, fps and frames', () => {
    const rows = [...toPairRows([pair('a', 'b'), pair('c', 'a', { scope: 'session', groupKey: 'user:u' })], VIDEOS)];
    expect(rows).toEqual([
      { chosenId: 'a', rejectedId: 'b', chosenUri: 's3://a', rejectedUri: null, prompt: 'A cat', requestId: 'r1', modelVersion: 'm1',
        margin: 0.5, weight: 1, tie: false, scope: 'request', groupKey: 'request:r1', split: 'train', source: 'observed',
        dimensions: { text_alignment: 0, visual_quality: 0.5 }, chosenFps: 24, chosenFrames: 121, rejectedFps: null, rejectedFrames: null },
      { chosenId: 'c', rejectedId: 'a', chosenUri: 's3://c', rejectedUri: 's3://a', prompt: 'A dog', requestId: null, modelVersion: null,
        margin: 0.5, weight: 1, tie: false, scope: 'session', groupKey: 'user:u', split: 'train', source: 'observed', dimensions: {},
        chosenFps: null, chosenFrames: null, rejectedFps: 24, rejectedFrames: 121 },
    ]);
  });

  it('refuses a pair whose video is unknown', () => {
    expect(() => [...toPairRows([pair('a', 'zz')], new Map(VIDEOS.map((v) => [v.videoId, v])))]).toThrow(PreferencesError);
  });
});
