/**
 * A growable byte buffer that encoders write into directly: parquet pages (PLAIN values) and JSON lines built from
 * raw bytes, without a JS string per value.
 */
export class ByteSink {
  buf = Buffer.allocUnsafe(64 * 1024);
  pos = 0;

  append(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** `buf[start, end)`, copied. Most values are short: a loop beats Buffer#copy's call overhead below ~256 bytes. */
  copyFrom(buf: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    const out = this.buf;
    let p = this.pos;
    if (end - start > 256) {
      out.set(buf.subarray(start, end), p);
      p += end - start;
    } else {
      for (let i = start; i < end; i++) out[p++] = buf[i];
    }
    this.pos = p;
  }

  /** A string known to be ASCII (numbers, keys, literals). */
  writeAscii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const out = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) out[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /**
   * A JSON string of the UTF-8 bytes `buf[start, end)`, byte for byte what JSON.stringify writes for the decoded
   * string: `"` and `\` escaped, \b \f \n \r \t as such, other controls as \u00xx, everything else as is
   * (well-formed UTF-8 has no lone surrogates, the one case JSON.stringify would escape beyond ASCII).
   */
  writeJsonString(buf: Uint8Array, start: number, end: number): void {
    this.ensure((end - start) * 6 + 2);
    const out = this.buf;
    let p = this.pos;
    out[p++] = 0x22;
    for (let i = start; i < end; i++) {
      const c = buf[i];
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
        out[p++] = c;
        continue;
      }
      out[p++] = 0x5c;
      const short = JSON_SHORT_ESCAPE[c];
      if (short !== 0) {
        out[p++] = short;
      } else {
        out[p++] = 0x75; // u00xx
        out[p++] = 0x30;
        out[p++] = 0x30;
        out[p++] = HEX[c >> 4];
        out[p++] = HEX[c & 15];
      }
    }
    out[p++] = 0x22;
    this.pos = p;
  }

  /** PLAIN BYTE_ARRAY: 4-byte little-endian length, then the UTF-8 bytes. ASCII is copied here, the rest by Buffer. */
  writePlainString(s: string): void {
    const n = s.length;
    this.ensure(4 + n * 3);
    const buf = this.buf;
    const start = this.pos + 4;
    let p = start;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[p++] = c;
    }
    if (i < n) p += buf.write(i === 0 ? s : s.slice(i), p, 'utf8');
    buf.writeUInt32LE(p - start, this.pos);
    this.pos = p;
  }

  writeDouble(x: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(x, this.pos);
    this.pos += 8;
  }
}

/** The letter after the backslash for characters JSON escapes short (`"` `\\` b f n r t); 0 for \u00xx. */
const JSON_SHORT_ESCAPE = Uint8Array.from({ length: 256 }, (_, c) =>
  ({ 0x22: 0x22, 0x5c: 0x5c, 8: 0x62, 12: 0x66, 10: 0x6e, 13: 0x72, 9: 0x74 } as Record<number, number>)[c] ?? 0);
const HEX = Uint8Array.from('0123456789abcdef', (ch) => ch.charCodeAt(0));
