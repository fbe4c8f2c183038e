import { createHash } from 'node:crypto';
import { dimensionsJson, exportNumber } from './canonical-encoding';
import type { RankedRequest, VideoOutcome } from './preference.types';
import { type RowSource, encodeLines, encodeRankedJsonl, newExportStats } from './text-export.encoder';

/** sha256 (hex) of a byte stream. */
export async function sha256Hex(chunks: Iterable<Buffer | string> | AsyncIterable<Buffer | string>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** sha256 of the rankings' ranked-jsonl. */
export function rankedRequestsSha256(rows: RowSource<RankedRequest>): Promise<string> {
  return sha256Hex(encodeRankedJsonl(rows));
}

/**
 * The content hash of a preference set for its manifest: sha256 over
 * `flywheel.preference-set.v1\npairs <sha256 of the pairs-jsonl>\nrankings <rankedRequestsSha256>\n`. The pairs
 * come as their pairs-jsonl bytes (every column, ties included, fixed key order and float rule): for a stored set,
 * its pairs-jsonl export. Two sets with the same rows in the same order have the same hash, whatever format they
 * are later exported in; row order is part of the content (pairs are stored with a sequence number).
 */
export async function preferenceSetSha256(content: {
  pairsJsonl: Iterable<Buffer | string> | AsyncIterable<Buffer | string>;
  rankings?: RowSource<RankedRequest>;
  /** The set's outcomes (kto-jsonl, groups-jsonl), as outcomeLine lines; a set built without them has no such line. */
  outcomes?: RowSource<VideoOutcome>;
}): Promise<string> {
  const pairs = await sha256Hex(content.pairsJsonl);
  const rankings = await rankedRequestsSha256(content.rankings ?? []);
  const outcomes = content.outcomes ? `outcomes ${await sha256Hex(encodeLines(content.outcomes, outcomeLine, newExportStats()))}\n` : '';
  return createHash('sha256')
    .update(`flywheel.preference-set.v1\npairs ${pairs}\nrankings ${rankings}\n${outcomes}`, 'utf8')
    .digest('hex');
}

const json = JSON.stringify;

/** One outcome, every field in declaration order (snake_case), numbers by the export rule: what the hash covers. */
export function outcomeLine(o: VideoOutcome): string {
  return `{"video_id":${json(o.videoId)},"request_id":${json(o.requestId)},"prompt":${json(o.prompt)},"prompt_norm":${json(o.promptNorm)},"uri":${o.uri === null ? 'null' : json(o.uri)},"model_version":${json(o.modelVersion)},"split":${json(o.split)},"n":${o.n},"reward":${exportNumber(o.reward, 'reward')},"rewards":${dimensionsJson(o.rewards)},"positive":${o.positive},"negative":${o.negative},"label":${o.label === null ? 'null' : o.label},"fps":${o.fps === null ? 'null' : exportNumber(o.fps, 'fps')},"num_frames":${o.numFrames ?? 'null'}}\n`;
}
