/**
 * The slice of Thrift's compact protocol that parquet's page headers and footer need, write side only: structs,
 * i32/i64 (zigzag varints), binary/string, lists and booleans.
 * Spec: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
 */

/** Compact-protocol type ids. */
const CT = { BOOLEAN_TRUE: 1, BOOLEAN_FALSE: 2, I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;
type CT = (typeof CT)[keyof typeof CT];

export class ThriftWriter {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;
  /** Last field id of each open struct: field headers carry the delta from it. */
  private readonly lastField: number[] = [0];

  /** The bytes written so far (a copy: the writer can be reused). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  get length(): number {
    return this.pos;
  }

  fieldI32(id: number, value: number): this {
    this.fieldHeader(id, CT.I32);
    return this.varint(zigzag(value));
  }

  fieldI64(id: number, value: number): this {
    this.fieldHeader(id, CT.I64);
    return this.varint(zigzag(value));
  }

  fieldBool(id: number, value: boolean): this {
    return this.fieldHeader(id, value ? CT.BOOLEAN_TRUE : CT.BOOLEAN_FALSE);
  }

  fieldBinary(id: number, value: Uint8Array | string): this {
    this.fieldHeader(id, CT.BINARY);
    return this.binary(value);
  }

  /** A list of i32 (enums included). */
  fieldI32List(id: number, values: readonly number[]): this {
    this.fieldHeader(id, CT.LIST);
    this.listHeader(values.length, CT.I32);
    for (const v of values) this.varint(zigzag(v));
    return this;
  }

  fieldBinaryList(id: number, values: readonly (Uint8Array | string)[]): this {
    this.fieldHeader(id, CT.LIST);
    this.listHeader(values.length, CT.BINARY);
    for (const v of values) this.binary(v);
    return this;
  }

  /** A list of structs, each written by `write` between the struct's begin and end. */
  fieldStructList<T>(id: number, items: readonly T[], write: (w: this, item: T, index: number) => void): this {
    this.fieldHeader(id, CT.LIST);
    this.listHeader(items.length, CT.STRUCT);
    for (let i = 0; i < items.length; i++) {
      this.lastField.push(0);
      write(this, items[i], i);
      this.structEnd();
    }
    return this;
  }

  /** A nested struct field; `write` adds its fields. */
  fieldStruct(id: number, write: (w: this) => void): this {
    this.fieldHeader(id, CT.STRUCT);
    this.lastField.push(0);
    write(this);
    return this.structEnd();
  }

  /** Ends the outermost struct (the message): its stop byte. */
  end(): this {
    return this.byte(0);
  }

  private structEnd(): this {
    this.lastField.pop();
    return this.byte(0);
  }

  private fieldHeader(id: number, type: CT): this {
    const top = this.lastField.length - 1;
    const delta = id - this.lastField[top];
    this.lastField[top] = id;
    if (delta > 0 && delta <= 15) return this.byte((delta << 4) | type);
    this.byte(type);
    return this.varint(zigzag(id));
  }

  private listHeader(size: number, elementType: CT): this {
    if (size < 15) return this.byte((size << 4) | elementType);
    this.byte(0xf0 | elementType);
    return this.varint(size);
  }

  private binary(value: Uint8Array | string): this {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** An unsigned varint of a non-negative integer up to 2^53 (plain arithmetic: bit operators stop at 32 bits). */
  private varint(n: number): this {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
    return this;
  }

  private byte(b: number): this {
    this.ensure(1);
    this.buf[this.pos++] = b;
    return this;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

/** Zigzag of a safe integer (i32 or i64 within ±2^52), as a non-negative number. */
function zigzag(n: number): number {
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 52) throw new RangeError(`thrift integer out of range: ${n}`);
  return n >= 0 ? n * 2 : -n * 2 - 1;
}
