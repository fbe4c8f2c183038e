import { createHash } from 'node:crypto';
import type { RankedRequest } from './preference.types';
import { type RowSource, encodeRankedJsonl } from './text-export.encoder';

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
}): Promise<string> {
  const pairs = await sha256Hex(content.pairsJsonl);
  const rankings = await rankedRequestsSha256(content.rankings ?? []);
  return createHash('sha256')
    .update(`flywheel.preference-set.v1\npairs ${pairs}\nrankings ${rankings}\n`, 'utf8')
    .digest('hex');
}
