import { createHash } from 'node:crypto';
import type { PreferencePairRow, RankedRequest } from './preference.types';
import { type RowSource, encodePairsJsonl, encodeRankedJsonl } from './text-export.encoder';

/** sha256 (hex) of a byte stream. */
export async function sha256Hex(chunks: Iterable<Buffer | string> | AsyncIterable<Buffer | string>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** sha256 of the rows' pairs-jsonl: every column, ties included, fixed key order and float rule. */
export function pairRowsSha256(rows: RowSource<PreferencePairRow>): Promise<string> {
  return sha256Hex(encodePairsJsonl(rows));
}

/** sha256 of the rankings' ranked-jsonl. */
export function rankedRequestsSha256(rows: RowSource<RankedRequest>): Promise<string> {
  return sha256Hex(encodeRankedJsonl(rows));
}

/**
 * The content hash of a preference set for its manifest: sha256 over
 * `flywheel.preference-set.v1\npairs <pairRowsSha256>\nrankings <rankedRequestsSha256>\n`. Two sets with the same
 * rows in the same order have the same hash, whatever format they are later exported in; row order is part of the
 * content (store pairs with a sequence number and read them back in it).
 */
export async function preferenceSetSha256(content: {
  pairs: RowSource<PreferencePairRow>;
  rankings?: RowSource<RankedRequest>;
}): Promise<string> {
  const pairs = await pairRowsSha256(content.pairs);
  const rankings = await rankedRequestsSha256(content.rankings ?? []);
  return createHash('sha256')
    .update(`flywheel.preference-set.v1\npairs ${pairs}\nrankings ${rankings}\n`, 'utf8')
    .digest('hex');
}
