/**
 * A parquet writer for flat schemas (no nesting, no repetition): UTF8, DOUBLE and BOOLEAN columns, required or
 * optional, PLAIN values in v1 data pages, RLE definition levels, optionally Snappy-compressed (the `snappy`
 * package: native, ~7× snappyjs here); min/max statistics per column chunk where asked.
 * Format: https://github.com/apache/parquet-format (parquet.thrift).
 *
 * Row groups are encoded independently of each other and of where they will sit in the file (offsets in a group's
 * metadata are relative to its first byte): that is what lets worker threads encode groups in parallel while one
 * writer lays them out and writes the footer (see the parallel export in libs/preference-sets).
 *
 * Output is a pure function of the rows and options: nothing time- or machine-dependent is written.
 */
import { FlywheelError } from '@flywheel/errors';
import type * as Snappy from 'snappy';
import { ByteSink } from '../byte-sink';
import { ThriftWriter } from './thrift-compact';

export type FlatType = 'UTF8' | 'DOUBLE' | 'BOOLEAN';
export type FlatValue = string | number | boolean | null;
export type ParquetCodec = 'UNCOMPRESSED' | 'SNAPPY';

export interface FlatColumn<R> {
  name: string;
  type: FlatType;
  optional: boolean;
  /** Whether the chunk metadata carries min/max (null counts are always written). */
  statistics: boolean;
  value: (row: R) => FlatValue;
}

export interface RowGroupOptions {
  compression: ParquetCodec;
  /** Rows per data page. */
  pageSize: number;
}

export interface ColumnChunkMeta {
  /** Offset of the chunk's first page from the start of its row group. */
  offset: number;
  uncompressedSize: number;
  compressedSize: number;
  nullCount: number;
  min: Uint8Array | null;
  max: Uint8Array | null;
}

/** Structured-clone safe: crosses from worker threads as is. */
export interface RowGroupMeta {
  numRows: number;
  byteLength: number;
  columns: ColumnChunkMeta[];
}

export interface EncodedRowGroup {
  /** Owns its ArrayBuffer (never a slice of Node's shared pool), so it can be transferred between threads. */
  bytes: Buffer;
  meta: RowGroupMeta;
}

export const PARQUET_MAGIC = Buffer.from('PAR1', 'latin1');

// parquet.thrift enum values
const TYPE = { BOOLEAN: 0, DOUBLE: 5, BYTE_ARRAY: 6 } as const;
const PHYSICAL: Record<FlatType, number> = { UTF8: TYPE.BYTE_ARRAY, DOUBLE: TYPE.DOUBLE, BOOLEAN: TYPE.BOOLEAN };
const REPETITION = { REQUIRED: 0, OPTIONAL: 1 } as const;
const CONVERTED_UTF8 = 0;
const ENCODING = { PLAIN: 0, RLE: 3 } as const;
const PAGE_DATA_V1 = 0;
const CODEC: Record<ParquetCodec, number> = { UNCOMPRESSED: 0, SNAPPY: 1 };

/**
 * Working memory of a row group writer, kept between row groups: a thread that encodes group after group (a worker
 * of the parallel export) allocates its page and chunk buffers once instead of once a group. One writer at a time.
 */
export class RowGroupBuffers {
  private readonly sinks: { values: ByteSink; chunk: ByteSink }[] = [];

  /** Column i's sinks, emptied. */
  column(i: number): { values: ByteSink; chunk: ByteSink } {
    const sinks = (this.sinks[i] ??= { values: new ByteSink(), chunk: new ByteSink() });
    sinks.values.pos = 0;
    sinks.chunk.pos = 0;
    return sinks;
  }
}

/** One column of a row group being written: values go in row by row through the put* method of its type. */
export class ColumnWriter<R> {
  /**
   * The current page. Optional columns leave `levelRoom` bytes free at its start: the definition levels, known
   * only when the page ends, are written right-aligned into that room, so levels and values are one contiguous
   * slice to compress or copy.
   */
  private readonly values: ByteSink;
  /** The chunk so far: each finished page's header and body. */
  private readonly chunk: ByteSink;
  private readonly levelRoom: number;
  /** Definition level of each row of the current page (optional columns only): 1 present, 0 null. */
  private readonly defs: Uint8Array;
  private pageRows = 0;
  /** Booleans are bit-packed: how many of the current page's values are in `values`. */
  private bits = 0;
  private uncompressed = 0;
  private compressed = 0;
  private nulls = 0;
  // statistics; UTF8 bounds are compared as unsigned bytes, the order parquet defines for them
  private minBytes: Uint8Array | null = null;
  private maxBytes: Uint8Array | null = null;
  private minNum = Infinity;
  private maxNum = -Infinity;
  private seenTrue = false;
  private seenFalse = false;

  constructor(readonly column: FlatColumn<R>, private readonly options: RowGroupOptions, sinks: { values: ByteSink; chunk: ByteSink }) {
    this.defs = new Uint8Array(column.optional ? options.pageSize : 0);
    this.values = sinks.values;
    this.chunk = sinks.chunk;
    // length prefix + the longest run header (a varint of a 31-bit number) + one bit a row
    this.levelRoom = column.optional ? 4 + 5 + Math.ceil(options.pageSize / 8) : 0;
    this.values.ensure(this.levelRoom);
    this.values.pos = this.levelRoom;
  }

  /** Any value of the column's type (the row path); the typed methods below are the fast path. */
  put(v: FlatValue): void {
    if (v === null) this.putNull();
    else if (this.column.type === 'UTF8') this.putString(v as string);
    else if (this.column.type === 'DOUBLE') this.putDouble(v as number);
    else this.putBool(v as boolean);
  }

  putNull(): void {
    if (!this.column.optional) throw new MissingValueError(this.column.name);
    this.defs[this.pageRows++] = 0;
    this.nulls++;
  }

  putString(v: string): void {
    this.present();
    const at = this.values.pos + 4;
    this.values.writePlainString(v);
    if (this.column.statistics) this.bound(at, this.values.pos);
  }

  /** A UTF8 value given as its UTF-8 bytes `buf[start, end)` (no JS string made: the fast path from raw COPY rows). */
  putBytes(buf: Buffer, start: number, end: number): void {
    this.present();
    const sink = this.values;
    const length = end - start;
    sink.ensure(4 + length);
    const out = sink.buf;
    let p = sink.pos;
    out[p++] = length & 0xff; // the 4-byte little-endian length, by hand: Buffer#writeUInt32LE costs more per value
    out[p++] = (length >>> 8) & 0xff;
    out[p++] = (length >>> 16) & 0xff;
    out[p++] = length >>> 24;
    sink.pos = p;
    sink.copyFrom(buf, start, end);
    if (this.column.statistics) this.bound(p, sink.pos);
  }

  /** Widens the UTF8 bounds with the value just written at values[at, end). */
  private bound(at: number, end: number): void {
    const buf = this.values.buf;
    // Bounds are copied into arrays of their own (slice): they cross to the main thread by structured clone, which
    // would copy a whole shared pool with a pooled Buffer.
    if (this.minBytes === null || this.maxBytes === null) {
      this.minBytes = Uint8Array.prototype.slice.call(buf, at, end);
      this.maxBytes = this.minBytes;
      return;
    }
    const belowMin = compareBytes(buf, at, end, this.minBytes);
    if (belowMin < 0) this.minBytes = Uint8Array.prototype.slice.call(buf, at, end);
    else if (belowMin > 0 && compareBytes(buf, at, end, this.maxBytes) > 0) this.maxBytes = Uint8Array.prototype.slice.call(buf, at, end);
  }

  putDouble(x: number): void {
    this.present();
    this.values.writeDouble(x);
    if (this.column.statistics) {
      if (x < this.minNum) this.minNum = x;
      if (x > this.maxNum) this.maxNum = x;
    }
  }

  putBool(v: boolean): void {
    this.present();
    const sink = this.values;
    if ((this.bits & 7) === 0) {
      sink.ensure(1);
      sink.buf[sink.pos++] = 0;
    }
    if (v) sink.buf[sink.pos - 1] |= 1 << (this.bits & 7);
    this.bits++;
    if (v) this.seenTrue = true;
    else this.seenFalse = true;
  }

  private present(): void {
    if (this.column.optional) this.defs[this.pageRows] = 1;
    this.pageRows++;
  }

  /** Closes the current page: levels, values, compression, header. */
  flushPage(): void {
    if (this.pageRows === 0) return;
    const levels = this.column.optional ? encodeLevels(this.defs, this.pageRows) : EMPTY;
    const from = this.levelRoom - levels.length;
    levels.copy(this.values.buf, from);
    const data = this.values.buf.subarray(from, this.values.pos);
    const body = this.options.compression === 'SNAPPY' ? snappyCompress(data) : data;
    const header = new ThriftWriter()
      .fieldI32(1, PAGE_DATA_V1)
      .fieldI32(2, data.length)
      .fieldI32(3, body.length)
      .fieldStruct(5, (w) => w
        .fieldI32(1, this.pageRows)
        .fieldI32(2, ENCODING.PLAIN)
        .fieldI32(3, ENCODING.RLE)
        .fieldI32(4, ENCODING.RLE))
      .end()
      .toBuffer();
    this.chunk.append(header);
    this.chunk.append(body);
    this.uncompressed += header.length + data.length;
    this.compressed += header.length + body.length;
    this.pageRows = 0;
    this.bits = 0;
    this.values.pos = this.levelRoom;
  }

  /** The chunk's bytes (a view of the reused sink) and what its metadata needs; offset is filled in by the row group. */
  finish(): { bytes: Buffer; meta: Omit<ColumnChunkMeta, 'offset'> } {
    this.flushPage();
    return {
      bytes: this.chunk.buf.subarray(0, this.chunk.pos),
      meta: { uncompressedSize: this.uncompressed, compressedSize: this.compressed, nullCount: this.nulls, ...this.minMax() },
    };
  }

  private minMax(): { min: Uint8Array | null; max: Uint8Array | null } {
    const none = { min: null, max: null };
    if (!this.column.statistics) return none;
    if (this.column.type === 'UTF8') return { min: this.minBytes, max: this.maxBytes };
    if (this.column.type === 'DOUBLE') {
      if (this.minNum > this.maxNum) return none;
      // The spec's rule for zero bounds: a min of ±0 is written −0, a max of ±0 is written +0.
      return { min: doubleBytes(this.minNum === 0 ? -0 : this.minNum), max: doubleBytes(this.maxNum === 0 ? 0 : this.maxNum) };
    }
    if (!this.seenTrue && !this.seenFalse) return none;
    return { min: Uint8Array.of(this.seenFalse ? 0 : 1), max: Uint8Array.of(this.seenTrue ? 1 : 0) };
  }
}

const EMPTY = Buffer.alloc(0);

// The native snappy addon loads on first compressed page (~12 ms), not when any process imports this library.
let snappy: typeof Snappy | undefined;
function snappyCompress(data: Buffer): Buffer {
  snappy ??= require('snappy') as typeof Snappy;
  return snappy.compressSync(data);
}

/** Unsigned byte order of a[start, end) against b. */
function compareBytes(a: Buffer, start: number, end: number, b: Uint8Array): number {
  const n = Math.min(end - start, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[start + i] - b[i];
    if (d !== 0) return d;
  }
  return end - start - b.length;
}

function doubleBytes(x: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x, 0);
  return b;
}

/**
 * Definition levels (bit width 1) in the RLE/bit-packing hybrid, behind the v1 page's 4-byte length: one RLE run
 * when the page is all null or all present, else one bit-packed run (padded to whole groups of 8).
 */
function encodeLevels(defs: Uint8Array, count: number): Buffer {
  let uniform = true;
  for (let i = 1; i < count; i++) {
    if (defs[i] !== defs[0]) {
      uniform = false;
      break;
    }
  }
  const out: number[] = [];
  const varint = (n: number) => {
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
  };
  if (uniform) {
    varint(count << 1);
    out.push(defs[0]);
    return withLength(Buffer.from(out));
  }
  const groups = Math.ceil(count / 8);
  varint((groups << 1) | 1);
  const head = Buffer.from(out);
  const packed = Buffer.alloc(groups);
  for (let i = 0; i < count; i++) if (defs[i]) packed[i >> 3] |= 1 << (i & 7);
  return withLength(Buffer.concat([head, packed]));
}

function withLength(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** Encodes rows into one row group; the file around it is written by ParquetFileLayout. */
export class RowGroupWriter<R> {
  private readonly writers: ColumnWriter<R>[];
  private readonly scratch: FlatValue[];
  private rows = 0;
  private pageRows = 0;

  /** `buffers`: working memory to reuse (see RowGroupBuffers); by default this group's own. */
  constructor(private readonly columns: readonly FlatColumn<R>[], private readonly options: RowGroupOptions, buffers = new RowGroupBuffers()) {
    this.writers = columns.map((c, i) => new ColumnWriter(c, options, buffers.column(i)));
    this.scratch = new Array<FlatValue>(columns.length);
  }

  get rowCount(): number {
    return this.rows;
  }

  /** Appends a row; a required column's null is refused before anything of the row is written. */
  append(row: R): void {
    const { columns, scratch } = this;
    for (let i = 0; i < columns.length; i++) {
      const v = columns[i].value(row);
      if (v === null && !columns[i].optional) throw new MissingValueError(columns[i].name);
      scratch[i] = v;
    }
    for (let i = 0; i < columns.length; i++) this.writers[i].put(scratch[i]);
    this.endRow();
  }

  /**
   * The column writers, for callers that put values column by column (one value in each, in column order, then
   * endRow): the fast path from raw COPY bytes.
   */
  get columnWriters(): readonly ColumnWriter<R>[] {
    return this.writers;
  }

  endRow(): void {
    this.rows++;
    if (++this.pageRows === this.options.pageSize) {
      for (const w of this.writers) w.flushPage();
      this.pageRows = 0;
    }
  }

  finish(): EncodedRowGroup {
    const chunks = this.writers.map((w) => w.finish());
    let length = 0;
    const columns: ColumnChunkMeta[] = chunks.map(({ meta }) => {
      const offset = length;
      length += meta.compressedSize;
      return { offset, ...meta };
    });
    const bytes = Buffer.allocUnsafeSlow(length);
    let p = 0;
    for (const chunk of chunks) {
      chunk.bytes.copy(bytes, p);
      p += chunk.bytes.length;
    }
    return { bytes, meta: { numRows: this.rows, byteLength: length, columns } };
  }
}

export class MissingValueError extends FlywheelError<'INVALID_ROW'> {
  constructor(readonly column: string) {
    super('INVALID_ROW', `missing required parquet column ${column}`, { details: { field: column } });
  }
}

/**
 * Lays row groups out in a file: the magic first, then each group in order (its offset is the bytes written before
 * it), then the footer. Callers stream header(), each group's bytes, and footer() in that order.
 */
export class ParquetFileLayout {
  private readonly groups: { meta: RowGroupMeta; offset: number }[] = [];
  private written = PARQUET_MAGIC.length;

  constructor(
    private readonly columns: readonly Pick<FlatColumn<unknown>, 'name' | 'type' | 'optional'>[],
    private readonly codec: ParquetCodec,
    private readonly keyValue: Readonly<Record<string, string>>,
    private readonly createdBy: string,
  ) {}

  header(): Buffer {
    return Buffer.from(PARQUET_MAGIC);
  }

  /** Records a group that is written next. */
  add(meta: RowGroupMeta): void {
    this.groups.push({ meta, offset: this.written });
    this.written += meta.byteLength;
  }

  /** FileMetaData (thrift compact), its 4-byte length and the closing magic. */
  footer(): Buffer {
    const { columns, codec } = this;
    const numRows = this.groups.reduce((n, g) => n + g.meta.numRows, 0);
    const w = new ThriftWriter()
      .fieldI32(1, 2)
      .fieldStructList(2, [null, ...columns], (s, c) => {
        if (c === null) {
          s.fieldBinary(4, 'schema').fieldI32(5, columns.length);
          return;
        }
        s.fieldI32(1, PHYSICAL[c.type]).fieldI32(3, c.optional ? REPETITION.OPTIONAL : REPETITION.REQUIRED).fieldBinary(4, c.name);
        if (c.type === 'UTF8') s.fieldI32(6, CONVERTED_UTF8).fieldStruct(10, (l) => l.fieldStruct(1, () => undefined));
      })
      .fieldI64(3, numRows)
      .fieldStructList(4, this.groups, (g, { meta, offset }) => {
        g.fieldStructList(1, meta.columns, (cc, chunk, i) => {
          const c = columns[i];
          const at = offset + chunk.offset;
          cc.fieldI64(2, at).fieldStruct(3, (m) => {
            m.fieldI32(1, PHYSICAL[c.type])
              .fieldI32List(2, c.optional ? [ENCODING.PLAIN, ENCODING.RLE] : [ENCODING.PLAIN])
              .fieldBinaryList(3, [c.name])
              .fieldI32(4, CODEC[codec])
              .fieldI64(5, meta.numRows)
              .fieldI64(6, chunk.uncompressedSize)
              .fieldI64(7, chunk.compressedSize)
              .fieldI64(9, at)
              .fieldStruct(12, (st) => {
                st.fieldI64(3, chunk.nullCount);
                if (chunk.max !== null) st.fieldBinary(5, chunk.max);
                if (chunk.min !== null) st.fieldBinary(6, chunk.min);
              });
          });
        });
        const uncompressed = meta.columns.reduce((n, c) => n + c.uncompressedSize, 0);
        g.fieldI64(2, uncompressed).fieldI64(3, meta.numRows).fieldI64(5, offset).fieldI64(6, meta.byteLength);
      })
      .fieldStructList(5, Object.entries(this.keyValue), (kv, [key, value]) => {
        kv.fieldBinary(1, key).fieldBinary(2, value);
      })
      .fieldBinary(6, this.createdBy)
      .end();
    const metadata = w.toBuffer();
    const tail = Buffer.allocUnsafe(8);
    tail.writeUInt32LE(metadata.length, 0);
    PARQUET_MAGIC.copy(tail, 4);
    return Buffer.concat([metadata, tail]);
  }
}
