import type { PreferencePairRow } from './preference.types';

/** Export rows for specs: one with every dimension, one with characters that need escaping and nulls, one tie. */
export function pairRow(overrides: Partial<PreferencePairRow> = {}): PreferencePairRow {
  return {
    chosenId: 'v1', rejectedId: 'v2', chosenUri: 's3://bucket/v1.mp4', rejectedUri: 's3://bucket/v2.mp4',
    prompt: 'a cat surfing', requestId: 'r1', modelVersion: 'gen-2.1', margin: 0.25, weight: 1, tie: false,
    scope: 'request', groupKey: 'request:r1', split: 'train', source: 'observed', dimensions: {}, ...overrides,
  };
}

export const ROWS: PreferencePairRow[] = [
  pairRow({ dimensions: { visual_quality: 1.5, motion_quality: -0.5, text_alignment: 0 } }),
  pairRow({
    chosenId: 'v3', rejectedId: 'v4', chosenUri: null, prompt: 'a "quoted", comma\nnewline prompt — ünïcode 🐈',
    requestId: null, modelVersion: null, margin: 0.123456789, weight: 2 / 3, scope: 'prompt', groupKey: 'prompt:x',
    split: 'test', dimensions: { visual_quality: -2 },
  }),
  pairRow({ chosenId: 'v5', rejectedId: 'v6', margin: 0.01, tie: true, split: 'validation', source: 'reward_model' }),
];
