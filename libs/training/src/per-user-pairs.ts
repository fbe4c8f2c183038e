import { UserRatingRow } from '@flywheel/database';
import { DEFAULT_PAIR_OPTIONS, VideoEvidence, compareStrings, splitOf } from '@flywheel/preferences';
import { PAIR_SPLIT } from '@flywheel/reward-model';

/** Pairs over item indices, the preferred item first, with a split code per pair. */
export interface IndexedSplitPairs {
  a: Int32Array;
  b: Int32Array;
  split: Uint8Array;
}

const SPLIT_CODE = { train: PAIR_SPLIT.train, validation: PAIR_SPLIT.validation, test: PAIR_SPLIT.test } as const;

/**
 * Each user's own comparisons: two candidates of one request that the same user scored differently (by `score` of
 * their row: their satisfaction, or their rating on one dimension) give one pair, the higher-scored video first. A
 * request rated by three users can give three pairs for the same two videos, each a separate judgement; a pair the
 * users disagree on appears both ways. Equal scores (margin 0) or a margin below `minMargin` give no pair.
 *
 * This is how preference data is usually labelled (each annotator's comparison is a training pair) and keeps what
 * averaging throws away: on real ratings (FETV, `npm run eval:fetv`) pairs from the three raters' mean rating drop
 * every pair where the mean ties and weigh a 2-to-1 split like a unanimous one.
 *
 * Split by prompt with the same key and seed as the aggregate request pairs (`prompt:<promptNorm>`), so a prompt's
 * per-user pairs land in the split of its aggregate pairs. Order: user, then request, then video ids.
 */
export function perUserPairs(
  videos: readonly Pick<VideoEvidence, 'videoId' | 'requestId' | 'promptNorm'>[],
  ratings: readonly UserRatingRow[],
  score: (row: UserRatingRow) => number | undefined,
  index: ReadonlyMap<string, number>,
  splitSeed: number,
  minMargin = 0,
): IndexedSplitPairs {
  const video = new Map(videos.map((v) => [v.videoId, v]));
  const promptOfRequest = new Map<string, string>();
  for (const v of videos) {
    const known = promptOfRequest.get(v.requestId);
    if (known === undefined || v.promptNorm < known) promptOfRequest.set(v.requestId, v.promptNorm);
  }
  const groups = new Map<string, { id: string; score: number }[]>();
  for (const row of ratings) {
    const v = video.get(row.videoId);
    const value = score(row);
    if (!v || value === undefined || !Number.isFinite(value) || !index.has(row.videoId)) continue;
    const key = `${row.userHash}\u0000${v.requestId}`;
    const list = groups.get(key) ?? [];
    list.push({ id: row.videoId, score: value });
    groups.set(key, list);
  }
  const a: number[] = [];
  const b: number[] = [];
  const split: number[] = [];
  for (const key of [...groups.keys()].sort(compareStrings)) {
    const members = groups.get(key)!.sort((x, y) => compareStrings(x.id, y.id));
    if (members.length < 2) continue;
    const requestId = video.get(members[0].id)!.requestId;
    const code = SPLIT_CODE[splitOf(`prompt:${promptOfRequest.get(requestId)}`, splitSeed, DEFAULT_PAIR_OPTIONS.splitRatios)];
    for (let i = 0; i < members.length; i++) {
      for (let j = i + 1; j < members.length; j++) {
        const d = members[i].score - members[j].score;
        if (d === 0 || Math.abs(d) < minMargin) continue;
        a.push(index.get(d > 0 ? members[i].id : members[j].id)!);
        b.push(index.get(d > 0 ? members[j].id : members[i].id)!);
        split.push(code);
      }
    }
  }
  return { a: Int32Array.from(a), b: Int32Array.from(b), split: Uint8Array.from(split) };
}

/**
 * Training pairs from each user's comparisons, validation and test pairs from the aggregate (mean) pairs: the model
 * learns from every judgement, and it is stopped, tuned and evaluated on the pairs every other run is evaluated on
 * (so the card, the promotion gate and the frozen evaluation set mean the same as for a run on aggregate pairs).
 */
export function withPerUserTraining(aggregate: IndexedSplitPairs & { outcome?: Float32Array; weight?: Float32Array }, perUser: IndexedSplitPairs) {
  const keep: number[] = [];
  for (let p = 0; p < aggregate.split.length; p++) if (aggregate.split[p] !== PAIR_SPLIT.train) keep.push(p);
  const train: number[] = [];
  for (let p = 0; p < perUser.split.length; p++) if (perUser.split[p] === PAIR_SPLIT.train) train.push(p);
  const n = train.length + keep.length;
  const out = { a: new Int32Array(n), b: new Int32Array(n), split: new Uint8Array(n), outcome: new Float32Array(n), weight: new Float32Array(n) };
  let q = 0;
  for (const p of train) {
    out.a[q] = perUser.a[p];
    out.b[q] = perUser.b[p];
    out.split[q] = PAIR_SPLIT.train;
    out.outcome[q] = 1;
    out.weight[q++] = 1;
  }
  for (const p of keep) {
    out.a[q] = aggregate.a[p];
    out.b[q] = aggregate.b[p];
    out.split[q] = aggregate.split[p];
    out.outcome[q] = aggregate.outcome ? aggregate.outcome[p] : 1;
    out.weight[q++] = aggregate.weight ? aggregate.weight[p] : 1;
  }
  return out;
}
