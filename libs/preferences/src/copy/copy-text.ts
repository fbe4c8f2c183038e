import { Readable } from 'node:stream';

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** Undoes COPY's text-format escaping of one field (`\N` is NULL). */
export function unescapeCopyField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c);
}

/**
 * The raw bytes of a COPY text stream in batches of exactly `rows` rows (the last batch may hold fewer). Rows end
 * at a newline byte: COPY escapes newlines inside values, and UTF-8 never uses 0x0a inside a character, so cutting
 * there is safe without decoding. Each batch owns its memory (not a slice of a shared pool): it can be transferred
 * to a worker thread.
 */
export async function* copyRowBatches(stream: Readable, rows: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  let count = 0;
  const take = (): Buffer => {
    const batch = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for (const part of parts) {
      part.copy(batch, at);
      at += part.length;
    }
    parts = [];
    size = 0;
    count = 0;
    return batch;
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, nl + 1)) {
      if (++count < rows) continue;
      parts.push(chunk.subarray(start, nl + 1));
      size += nl + 1 - start;
      start = nl + 1;
      yield take();
    }
    if (start < chunk.length) {
      parts.push(chunk.subarray(start));
      size += chunk.length - start;
    }
  }
  if (size > 0) yield take();
}

/** The fields of each line of a whole-rows batch (see copyRowBatches), unescaped: the row path's parser. */
export function copyTextRows(text: string): (string | null)[][] {
  const lines = text.split('\n');
  lines.pop(); // the chunk ends with a newline
  return lines.map((line) => line.split('\t').map(unescapeCopyField));
}

/**
 * Field boundaries of COPY text rows, found over the raw UTF-8 bytes without decoding them: the fast path for
 * encoders that copy most fields as bytes (the parallel export). After next(), field i is `buf[start[i], end[i])`,
 * still COPY-escaped when escaped[i] is 1; `\N` (NULL) reads as isNull(i).
 */
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => 10 ** k);

/** The byte a COPY text escape `\\x` stands for, by x: identity but for b f n r t v (as unescapeCopyField). */
const COPY_UNESCAPE = Uint8Array.from({ length: 256 }, (_, c) =>
  ({ 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9, 0x76: 11 } as Record<number, number>)[c] ?? c);

export class CopyRowScanner {
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly escaped: Uint8Array;
  fields = 0;
  private pos = 0;

  constructor(readonly buf: Buffer, maxFields: number) {
    this.bytes = buf;
    this.start = new Int32Array(maxFields);
    this.end = new Int32Array(maxFields);
    this.escaped = new Uint8Array(maxFields);
  }

  /** Scans the next row; false when there is none. A row with more than maxFields fields is an error. */
  next(): boolean {
    const { buf, start, end, escaped } = this;
    let p = this.pos;
    if (p >= buf.length) return false;
    const n = buf.length;
    let f = 0;
    let from = p;
    let esc = 0;
    for (;;) {
      // Most bytes are neither separators (\t \n, both ≤ 10) nor the escape (\\): skip them in a tight loop.
      let c = 10; // a last row without its newline ends with the buffer
      while (p < n) {
        const b = buf[p];
        if (b <= 10 || b === 0x5c) {
          c = b;
          break;
        }
        p++;
      }
      if (c === 9 || c === 10) {
        if (f === start.length) throw new Error(`COPY row with more than ${start.length} fields at byte ${from}`);
        start[f] = from;
        end[f] = p;
        escaped[f] = esc;
        f++;
        from = p + 1;
        esc = 0;
        if (c === 10) break;
      } else if (c === 0x5c) {
        esc = 1;
        p++; // the escaped byte is never a separator
      }
      p++;
    }
    this.pos = p + 1;
    this.fields = f;
    return true;
  }

  isNull(i: number): boolean {
    const s = this.start[i];
    return this.end[i] - s === 2 && this.buf[s] === 0x5c && this.buf[s + 1] === 0x4e;
  }

  /** After value(i): the field's unescaped UTF-8 bytes are `bytes[from, to)`. */
  bytes: Buffer;
  from = 0;
  to = 0;
  private scratch = Buffer.allocUnsafe(4096);

  /**
   * Points bytes/from/to at field i's value with COPY's escapes undone: a view of the row itself, or of a scratch
   * buffer for the rare field that holds escapes (valid until the next call). Check isNull(i) first.
   */
  value(i: number): void {
    const s = this.start[i];
    const e = this.end[i];
    if (!this.escaped[i]) {
      this.bytes = this.buf;
      this.from = s;
      this.to = e;
      return;
    }
    if (this.scratch.length < e - s) this.scratch = Buffer.allocUnsafe(2 * (e - s));
    const out = this.scratch;
    let p = 0;
    for (let k = s; k < e; k++) {
      let c = this.buf[k];
      if (c === 0x5c) c = COPY_UNESCAPE[this.buf[++k]];
      out[p++] = c;
    }
    this.bytes = out;
    this.from = 0;
    this.to = p;
  }

  /** Field i decoded and unescaped (null for `\N`). */
  text(i: number): string | null {
    const raw = this.buf.toString('utf8', this.start[i], this.end[i]);
    return this.escaped[i] ? unescapeCopyField(raw) : raw;
  }

  /**
   * Field i as a number, as parseFloat reads it. Plain decimals of up to 15 digits are read from the bytes (an
   * integer over an exact power of ten: one correctly rounded division, the same double); the rest (exponents,
   * NaN, Infinity, long digit strings) go to parseFloat.
   */
  number(i: number): number {
    const buf = this.buf;
    const s = this.start[i];
    const e = this.end[i];
    let p = s;
    const negative = buf[p] === 0x2d;
    if (negative) p++;
    let mantissa = 0;
    let digits = 0;
    let decimals = -1;
    for (; p < e; p++) {
      const c = buf[p];
      if (c >= 0x30 && c <= 0x39) {
        mantissa = mantissa * 10 + (c - 0x30);
        digits++;
        if (decimals >= 0) decimals++;
      } else if (c === 0x2e && decimals < 0) {
        decimals = 0;
      } else {
        break;
      }
    }
    if (p !== e || digits === 0 || digits > 15) return parseFloat(buf.toString('latin1', s, e));
    const value = decimals > 0 ? mantissa / POWERS_OF_TEN[decimals] : mantissa;
    return negative ? -value : value;
  }

  /** Field i as bytes equal to a given ASCII string (no decoding). */
  equals(i: number, ascii: string): boolean {
    const s = this.start[i];
    if (this.end[i] - s !== ascii.length) return false;
    for (let k = 0; k < ascii.length; k++) if (this.buf[s + k] !== ascii.charCodeAt(k)) return false;
    return true;
  }
}
