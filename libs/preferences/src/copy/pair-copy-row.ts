import type { PreferencePairRow } from '../preference.types';

/**
 * The columns of a stored pair's COPY row, in order: the repository selects them in this order and the byte
 * encoders (copy-jsonl, copy-parquet) read them by PAIR_FIELD.x, the index of column x.
 */
export const PAIR_COPY_FIELDS = ['seq', 'chosen_id', 'rejected_id', 'chosen_uri', 'rejected_uri', 'prompt', 'request_id', 'model_version',
  'margin', 'weight', 'tie', 'scope', 'group_key', 'split', 'source', 'dimensions'] as const;
export const PAIR_FIELD = Object.freeze(Object.fromEntries(PAIR_COPY_FIELDS.map((name, i) => [name, i]))) as Readonly<Record<(typeof PAIR_COPY_FIELDS)[number], number>>;
export const PAIR_FIELD_COUNT = PAIR_COPY_FIELDS.length;
/**
 * What the row path (pairPages: videoalign-csv, publication) reads after PAIR_COPY_FIELDS: each side's declared fps
 * and frame count. The byte paths (dpo-jsonl, pairs-jsonl, parquet) do not carry them and their COPY leaves them out.
 */
export const PAIR_MEDIA_FIELDS = ['chosen_fps', 'chosen_frames', 'rejected_fps', 'rejected_frames'] as const;

/** One stored pair from the unescaped fields of a COPY text line (PAIR_COPY_FIELDS order, then PAIR_MEDIA_FIELDS if there). */
export function pairFromCopyFields(f: (string | null)[]): PreferencePairRow & { seq: number } {
  return {
    seq: Number(f[0]), chosenId: f[1]!, rejectedId: f[2]!, chosenUri: f[3], rejectedUri: f[4], prompt: f[5]!,
    requestId: f[6], modelVersion: f[7], margin: parseFloat(f[8]!), weight: parseFloat(f[9]!), tie: f[10] === 't',
    scope: f[11] as PreferencePairRow['scope'], groupKey: f[12]!, split: f[13] as PreferencePairRow['split'],
    source: f[14] as PreferencePairRow['source'], dimensions: f[15] === '{}' ? {} : JSON.parse(f[15]!),
    chosenFps: numberOrNull(f[16]), chosenFrames: numberOrNull(f[17]), rejectedFps: numberOrNull(f[18]), rejectedFrames: numberOrNull(f[19]),
  };
}

/** A `real` column prints the shortest text that reads back as its float32; Math.fround gives that float32. */
function numberOrNull(field: string | null | undefined): number | null {
  return field === null || field === undefined ? null : Math.fround(parseFloat(field));
}
