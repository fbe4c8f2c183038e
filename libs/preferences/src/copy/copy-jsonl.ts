/**
 * dpo-jsonl and pairs-jsonl lines straight from COPY text bytes: what the parallel export's workers run. Text
 * fields are JSON-escaped byte for byte from the COPY row (ByteSink.writeJsonString), so no JS string or row object
 * is made for them; numbers and `dimensions` follow the same rules as canonical-encoding.ts, and the lines are
 * byte-identical to the row oracle's dpoLine / canonicalPairLine (copy-export.spec and the integration test compare
 * them). These are the only dpo-jsonl and pairs-jsonl encoders in production.
 */
import { ByteSink } from '../byte-sink';
import { dimensionsJson, exportNumber } from '../canonical-encoding';
import { CopyRowScanner } from './copy-text';
import { PAIR_FIELD, PAIR_FIELD_COUNT } from './pair-copy-row';

type Piece = (s: CopyRowScanner, out: ByteSink) => void;
const F = PAIR_FIELD;

const text = (field: number): Piece => (s, out) => {
  s.value(field);
  out.writeJsonString(s.bytes, s.from, s.to);
};
const nullable = (field: number): Piece => {
  const present = text(field);
  return (s, out) => (s.isNull(field) ? out.writeAscii('null') : present(s, out));
};
/** A side's path: its URI, else its video id (videoRef). */
const ref = (uri: number, id: number): Piece => (s, out) => {
  s.value(s.isNull(uri) ? id : uri);
  out.writeJsonString(s.bytes, s.from, s.to);
};
const number = (field: number, name: string): Piece => (s, out) => out.writeAscii(String(exportNumber(s.number(field), name)));
const tie: Piece = (s, out) => out.writeAscii(s.buf[s.start[F.tie]] === 0x74 ? 'true' : 'false');
const dimensions: Piece = (s, out) => {
  if (s.equals(F.dimensions, '{}')) out.writeAscii('{}');
  else out.append(Buffer.from(dimensionsJson(JSON.parse(s.text(F.dimensions)!)), 'utf8'));
};

/** A line encoder: `{"key":value,…}\n` with the keys' bytes prepared once. */
function line(fields: readonly [string, Piece][]): (s: CopyRowScanner, out: ByteSink) => void {
  const keys = fields.map(([key], i) => Buffer.from(`${i === 0 ? '{' : ','}${JSON.stringify(key)}:`, 'utf8'));
  const pieces = fields.map(([, piece]) => piece);
  return (s, out) => {
    for (let i = 0; i < pieces.length; i++) {
      out.append(keys[i]);
      pieces[i](s, out);
    }
    out.writeAscii('}\n');
  };
}

/** dpo-jsonl: keys in this order (a tie is skipped: DPO has no tie outcome). */
const DPO = line([
  ['prompt', text(F.prompt)], ['chosen', ref(F.chosen_uri, F.chosen_id)], ['rejected', ref(F.rejected_uri, F.rejected_id)],
  ['margin', number(F.margin, 'margin')], ['weight', number(F.weight, 'weight')], ['source', text(F.source)],
  ['split', text(F.split)], ['chosen_video_id', text(F.chosen_id)], ['rejected_video_id', text(F.rejected_id)],
  ['request_id', nullable(F.request_id)], ['model_version', nullable(F.model_version)],
]);

/** pairs-jsonl, the canonical encoding the content hash is taken over: every column, canonicalPairLine's keys and order. */
const PAIRS = line([
  ['chosen_video_id', text(F.chosen_id)], ['rejected_video_id', text(F.rejected_id)], ['chosen_uri', nullable(F.chosen_uri)],
  ['rejected_uri', nullable(F.rejected_uri)], ['prompt', text(F.prompt)], ['request_id', nullable(F.request_id)],
  ['model_version', nullable(F.model_version)], ['margin', number(F.margin, 'margin')], ['weight', number(F.weight, 'weight')],
  ['tie', tie], ['scope', text(F.scope)], ['group_key', text(F.group_key)], ['split', text(F.split)],
  ['source', text(F.source)], ['dimensions', dimensions],
]);

const sink = new ByteSink();

/**
 * The lines of the pairs in `rows` (whole COPY text rows, PAIR_FIELD order): dpo-jsonl skips ties, as
 * encodeDpoJsonl does. The result owns its ArrayBuffer, so it can be transferred between threads.
 */
export function encodePairLinesFromCopy(rows: Buffer, format: 'dpo-jsonl' | 'pairs-jsonl'): Buffer {
  const encode = format === 'dpo-jsonl' ? DPO : PAIRS;
  const skipTies = format === 'dpo-jsonl';
  const scanner = new CopyRowScanner(rows, PAIR_FIELD_COUNT);
  sink.pos = 0;
  while (scanner.next()) {
    if (scanner.fields !== PAIR_FIELD_COUNT) throw new Error(`COPY row with ${scanner.fields} fields, expected ${PAIR_FIELD_COUNT}`);
    if (skipTies && scanner.buf[scanner.start[F.tie]] === 0x74) continue;
    encode(scanner, sink);
  }
  const out = Buffer.allocUnsafeSlow(sink.pos);
  sink.buf.copy(out, 0, 0, sink.pos);
  return out;
}
