import { compareStrings } from './canonical-encoding';
import type { Pair, PreferencePairRow, VideoEvidence } from './preference.types';
import { PreferencesError } from './preferences.errors';

/**
 * Joins pairs with their videos into export rows. The row's prompt is the chosen video's (request- and prompt-scope
 * pairs share one; a session pair may span two prompts). `requestId` and `modelVersion` are set when both videos
 * share them, else null. `dimensions`: chosen − rejected mean rating for every dimension both videos have.
 */
export function* toPairRows(
  pairs: Iterable<Pair>,
  videos: ReadonlyMap<string, VideoEvidence> | readonly VideoEvidence[],
): Generator<PreferencePairRow> {
  const byId = isMap(videos) ? videos : new Map(videos.map((v) => [v.videoId, v]));
  for (const pair of pairs) {
    const chosen = byId.get(pair.chosenId);
    const rejected = byId.get(pair.rejectedId);
    if (!chosen || !rejected) {
      throw new PreferencesError('INVALID_ROW', `pair references unknown video ${chosen ? pair.rejectedId : pair.chosenId}`, {
        details: { groupKey: pair.groupKey },
      });
    }
    yield toPairRow(pair, chosen, rejected);
  }
}

export function toPairRow(pair: Pair, chosen: VideoEvidence, rejected: VideoEvidence): PreferencePairRow {
  return {
    chosenId: pair.chosenId,
    rejectedId: pair.rejectedId,
    chosenUri: chosen.uri,
    rejectedUri: rejected.uri,
    prompt: chosen.prompt,
    requestId: chosen.requestId === rejected.requestId ? chosen.requestId : null,
    modelVersion: chosen.modelVersion === rejected.modelVersion ? chosen.modelVersion : null,
    margin: pair.margin,
    weight: pair.weight,
    tie: pair.tie,
    scope: pair.scope,
    groupKey: pair.groupKey,
    split: pair.split,
    source: pair.source,
    dimensions: dimensionDifferences(chosen.dimensionScores, rejected.dimensionScores),
    chosenFps: chosen.fps ?? null,
    chosenFrames: chosen.numFrames ?? null,
    rejectedFps: rejected.fps ?? null,
    rejectedFrames: rejected.numFrames ?? null,
  };
}

const NO_DIMENSIONS: Record<string, number> = Object.freeze({}) as Record<string, number>;

function dimensionDifferences(a: Record<string, number> | undefined, b: Record<string, number> | undefined): Record<string, number> {
  if (!a || !b) return NO_DIMENSIONS;
  let out: Record<string, number> | null = null;
  for (const key of Object.keys(a).sort(compareStrings)) {
    const x = a[key];
    const y = b[key];
    if (y === undefined || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    (out ??= {})[key] = x - y;
  }
  return out ?? NO_DIMENSIONS;
}

function isMap(v: ReadonlyMap<string, VideoEvidence> | readonly VideoEvidence[]): v is ReadonlyMap<string, VideoEvidence> {
  return !Array.isArray(v);
}
