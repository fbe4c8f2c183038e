/**
 * Parquet row groups of pairs straight from COPY text bytes: what the parallel export's workers run. Text columns
 * are copied byte for byte from the COPY stream into the column pages (COPY's escapes undone on the way), so no
 * JS string or row object is made for them; numbers, booleans and `dimensions` go through the same rules as the
 * row oracle (encodeParquet in row-encoders.testing.ts), and the bytes are the same (copy-export.spec and the
 * integration test compare them). The only parquet row encoder in production.
 */
import { dimensionsJson, exportNumber } from '../canonical-encoding';
import { PARQUET_PAIR_COLUMNS, type ResolvedParquetOptions, pairRowGroupWriter } from '../parquet.encoder';
import { type ColumnWriter, type EncodedRowGroup, RowGroupBuffers } from '../parquet/flat-parquet';
import { CopyRowScanner } from './copy-text';
import { PAIR_FIELD, PAIR_FIELD_COUNT } from './pair-copy-row';

type Source = (s: CopyRowScanner, w: ColumnWriter<unknown>) => void;

const text = (field: number): Source => (s, w) => {
  if (s.isNull(field)) {
    w.putNull();
    return;
  }
  s.value(field);
  w.putBytes(s.bytes, s.from, s.to);
};
/** A side's path: its URI, else its video id (videoRef). */
const ref = (uri: number, id: number): Source => (s, w) => {
  s.value(s.isNull(uri) ? id : uri);
  w.putBytes(s.bytes, s.from, s.to);
};
const number = (field: number, name: string): Source => (s, w) => {
  w.putDouble(exportNumber(s.number(field), name));
};
const F = PAIR_FIELD;

const SOURCES: Readonly<Record<string, Source>> = {
  prompt: text(F.prompt),
  chosen: ref(F.chosen_uri, F.chosen_id),
  rejected: ref(F.rejected_uri, F.rejected_id),
  chosen_video_id: text(F.chosen_id),
  rejected_video_id: text(F.rejected_id),
  chosen_uri: text(F.chosen_uri),
  rejected_uri: text(F.rejected_uri),
  request_id: text(F.request_id),
  model_version: text(F.model_version),
  margin: number(F.margin, 'margin'),
  weight: number(F.weight, 'weight'),
  tie: (s, w) => w.putBool(s.buf[s.start[F.tie]] === 0x74), // 't'
  scope: text(F.scope),
  group_key: text(F.group_key),
  split: text(F.split),
  source: text(F.source),
  dimensions: (s, w) => w.putString(s.equals(F.dimensions, '{}') ? '{}' : dimensionsJson(JSON.parse(s.text(F.dimensions)!))),
};

/** Sources in file-column order; a parquet column without one fails at load, not mid-export. */
const ORDERED: readonly Source[] = PARQUET_PAIR_COLUMNS.map((name) => {
  const source = SOURCES[name];
  if (!source) throw new Error(`copy-parquet: no COPY source for parquet column ${name}`);
  return source;
});

/** This thread's working memory, reused group after group (one group is encoded at a time). */
const buffers = new RowGroupBuffers();

/** One row group of the pairs in `rows` (whole COPY text rows, PAIR_FIELD order). */
export function encodePairRowGroupFromCopy(rows: Buffer, options: ResolvedParquetOptions): EncodedRowGroup {
  const group = pairRowGroupWriter(options, buffers);
  const writers = group.columnWriters as readonly ColumnWriter<unknown>[];
  const scanner = new CopyRowScanner(rows, PAIR_FIELD_COUNT);
  while (scanner.next()) {
    if (scanner.fields !== PAIR_FIELD_COUNT) throw new Error(`COPY row with ${scanner.fields} fields, expected ${PAIR_FIELD_COUNT}`);
    for (let i = 0; i < ORDERED.length; i++) ORDERED[i](scanner, writers[i]);
    group.endRow();
  }
  return group.finish();
}
