import { Pair, VideoEvidence, buildPairs } from '@flywheel/preferences';
import {
  DimensionHead, HeadCardEntry, PAIR_SPLIT, RewardModel, RewardModelError, TrainOptions, evaluatePairs, predict, selectPairs,
  trainRewardModel,
} from '@flywheel/reward-model';

/** Pairs over the training items labelled for one dimension, with a split code per pair. */
export interface HeadPairs {
  a: Int32Array;
  b: Int32Array;
  split: Uint8Array;
}

/** What training did with one head: exactly what its model card lists (an untrained head scores every candidate 0). */
export type HeadReport = HeadCardEntry;

const MIN_HEAD_PAIRS = { train: 20, test: 5 };
const SPLIT_CODE = { train: PAIR_SPLIT.train, validation: PAIR_SPLIT.validation, test: PAIR_SPLIT.test } as const;

/**
 * Live pairs for one dimension: videos of the same request or prompt whose mean rating on that dimension differs
 * (strict pairs: margin > 0; equal means are ties and left out), split by prompt hash with the same seed as the
 * overall pairs, so a prompt is in the same split for every head.
 */
export function liveHeadPairs(
  videos: readonly VideoEvidence[],
  dimensions: readonly Record<string, { mean: number; n: number }>[],
  name: string,
  index: ReadonlyMap<string, number>,
  splitSeed: number,
): HeadPairs {
  const rated: VideoEvidence[] = [];
  videos.forEach((v, i) => {
    const d = dimensions[i][name];
    if (d && d.n > 0) rated.push({ ...v, n: d.n, satMean: d.mean, satShrunk: d.mean });
  });
  const pairs: Pair[] = [...buildPairs({ videos: rated }, { scopes: ['request', 'prompt'], minMargin: 0, includeTies: false, seed: splitSeed })];
  return {
    a: Int32Array.from(pairs, (p) => index.get(p.chosenId)!),
    b: Int32Array.from(pairs, (p) => index.get(p.rejectedId)!),
    split: Uint8Array.from(pairs, (p) => SPLIT_CODE[p.split]),
  };
}

/**
 * One head per declared dimension, each trained only on the pairs labelled for it, with the overall model's kind and
 * options. A head with too few pairs is left untrained (zero weights: it scores every candidate 0) and says why.
 */
export function trainHeads(
  names: readonly string[],
  pairsOf: (name: string) => HeadPairs,
  data: { features: Float32Array; nItems: number; dim: number },
  options: TrainOptions,
): { heads: DimensionHead[]; reports: HeadReport[]; tests: Map<string, { a: Int32Array; b: Int32Array }> } {
  const heads: DimensionHead[] = [];
  const reports: HeadReport[] = [];
  /** Each trained head's test pairs (item indices, preferred first): its frozen evaluation pairs. */
  const tests = new Map<string, { a: Int32Array; b: Int32Array }>();
  for (const name of names) {
    const pairs = pairsOf(name);
    const counts = { train: 0, validation: 0, test: 0 };
    const codeNames = ['train', 'validation', 'test'] as const;
    for (const code of pairs.split) counts[codeNames[code]]++;
    const labelled = { a: pairs.a, b: pairs.b, outcome: new Float32Array(pairs.a.length).fill(1), weight: new Float32Array(pairs.a.length).fill(1) };
    const untrained = (reason: string) => {
      heads.push({ name, model: zeroModel(data.dim) });
      reports.push({ name, trained: false, reason, pairs: counts, metrics: null, epochsRun: null, bestEpoch: null, stoppedBy: null });
    };
    if (counts.train < MIN_HEAD_PAIRS.train || counts.test < MIN_HEAD_PAIRS.test) {
      untrained(`${counts.train} train and ${counts.test} test pairs labelled for ${name} (needs ${MIN_HEAD_PAIRS.train} and ${MIN_HEAD_PAIRS.test})`);
      continue;
    }
    let result;
    try {
      result = trainRewardModel({ ...data, pairs: labelled, split: pairs.split }, { ...options, ties: 'none', onEpoch: undefined });
    } catch (error) {
      if (error instanceof RewardModelError) {
        untrained(error.message);
        continue;
      }
      throw error;
    }
    const test = selectPairs(labelled, pairs.split, PAIR_SPLIT.test);
    const scores = predict(result.model, data.features, data.nItems);
    const metrics = evaluatePairs(Float32Array.from(test.a, (i) => scores[i]), Float32Array.from(test.b, (i) => scores[i]), test.outcome, test.weight);
    heads.push({ name, model: result.model });
    tests.set(name, { a: test.a, b: test.b });
    reports.push({
      name, trained: true, reason: null, pairs: counts, metrics, epochsRun: result.history.length, bestEpoch: result.bestEpoch,
      stoppedBy: result.stoppedBy,
    });
  }
  return { heads, reports, tests };
}

function zeroModel(dim: number): RewardModel {
  return { kind: 'linear', inputDim: dim, hiddenLayers: [], layers: [{ inDim: dim, outDim: 1, weights: new Float32Array(dim), bias: new Float32Array(1) }] };
}
