/**
 * Thrift's compact protocol, as Parquet encodes its footer: decoded to a generic tree that keeps
 * every field (known or not) in its order and type, so that encoding it again gives the same
 * bytes, and a caller can change a few fields by their ids without a schema of the rest.
 */

/** Compact protocol type codes (1 and 2 are a struct field's boolean true and false). */
export const T = { TRUE: 1, FALSE: 2, I8: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

export type ThriftValue = boolean | number | bigint | Buffer | ThriftStruct | ThriftList | ThriftMap;
export interface ThriftField {
  id: number;
  type: number;
  value: ThriftValue;
}
export interface ThriftStruct {
  fields: ThriftField[];
}
export interface ThriftList {
  elementType: number;
  items: ThriftValue[];
}
export interface ThriftMap {
  keyType: number;
  valueType: number;
  entries: [ThriftValue, ThriftValue][];
}

export class ThriftReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  private byte(): number {
    if (this.pos >= this.buf.length) throw new Error('thrift: unexpected end of data');
    return this.buf[this.pos++];
  }

  private varint(): bigint {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      if (shift > 63n) throw new Error('thrift: varint too long');
    }
  }

  private zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  private value(type: number): ThriftValue {
    switch (type) {
      case T.TRUE:
        return true;
      case T.FALSE:
        return false;
      case T.I8:
        return (this.byte() << 24) >> 24;
      case T.I16:
      case T.I32:
        return Number(this.zigzag());
      case T.I64:
        return this.zigzag();
      case T.DOUBLE: {
        const v = this.buf.readDoubleLE(this.pos);
        this.pos += 8;
        return v;
      }
      case T.BINARY: {
        const length = Number(this.varint());
        if (this.pos + length > this.buf.length) throw new Error('thrift: binary past the end of data');
        const v = Buffer.from(this.buf.subarray(this.pos, this.pos + length));
        this.pos += length;
        return v;
      }
      case T.LIST:
      case T.SET: {
        const header = this.byte();
        const size = header >> 4 === 15 ? Number(this.varint()) : header >> 4;
        const elementType = header & 0x0f;
        // In a list, a boolean is one byte: 1 true, anything else false.
        const items = Array.from({ length: size }, () => (elementType === T.TRUE || elementType === T.FALSE ? this.byte() === 1 : this.value(elementType)));
        return { elementType, items };
      }
      case T.MAP: {
        const size = Number(this.varint());
        if (size === 0) return { keyType: 0, valueType: 0, entries: [] };
        const types = this.byte();
        const [keyType, valueType] = [types >> 4, types & 0x0f];
        const entries = Array.from({ length: size }, () => [this.value(keyType), this.value(valueType)] as [ThriftValue, ThriftValue]);
        return { keyType, valueType, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new Error(`thrift: unknown type ${type}`);
    }
  }

  struct(): ThriftStruct {
    const fields: ThriftField[] = [];
    let last = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === 0) return { fields };
      const delta = header >> 4;
      const id = delta ? last + delta : Number(this.zigzag());
      fields.push({ id, type, value: this.value(type) });
      last = id;
    }
  }
}

export class ThriftWriter {
  private readonly chunks: Buffer[] = [];
  private bytes: number[] = [];

  private flush(): void {
    if (this.bytes.length) this.chunks.push(Buffer.from(this.bytes));
    this.bytes = [];
  }

  private varint(n: bigint): void {
    for (let v = BigInt.asUintN(64, n); ; ) {
      if (v < 0x80n) {
        this.bytes.push(Number(v));
        return;
      }
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
  }

  private zigzag(n: bigint): void {
    this.varint((n << 1n) ^ (n >> 63n));
  }

  private value(type: number, value: ThriftValue): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        return;
      case T.I8:
        this.bytes.push((value as number) & 0xff);
        return;
      case T.I16:
      case T.I32:
        this.zigzag(BigInt(value as number));
        return;
      case T.I64:
        this.zigzag(value as bigint);
        return;
      case T.DOUBLE: {
        const b = Buffer.alloc(8);
        b.writeDoubleLE(value as number);
        this.bytes.push(...b);
        return;
      }
      case T.BINARY: {
        const b = value as Buffer;
        this.varint(BigInt(b.length));
        this.flush();
        this.chunks.push(b);
        return;
      }
      case T.LIST:
      case T.SET: {
        const { elementType, items } = value as ThriftList;
        if (items.length < 15) this.bytes.push((items.length << 4) | elementType);
        else {
          this.bytes.push(0xf0 | elementType);
          this.varint(BigInt(items.length));
        }
        for (const item of items) {
          if (elementType === T.TRUE || elementType === T.FALSE) this.bytes.push(item ? 1 : 2);
          else this.value(elementType, item);
        }
        return;
      }
      case T.MAP: {
        const { keyType, valueType, entries } = value as ThriftMap;
        this.varint(BigInt(entries.length));
        if (!entries.length) return;
        this.bytes.push((keyType << 4) | valueType);
        for (const [k, v] of entries) {
          this.value(keyType, k);
          this.value(valueType, v);
        }
        return;
      }
      case T.STRUCT:
        this.struct(value as ThriftStruct);
        return;
      default:
        throw new Error(`thrift: unknown type ${type}`);
    }
  }

  struct({ fields }: ThriftStruct): this {
    let last = 0;
    for (const { id, type, value } of fields) {
      const delta = id - last;
      if (delta > 0 && delta <= 15) this.bytes.push((delta << 4) | type);
      else {
        this.bytes.push(type);
        this.zigzag(BigInt(id));
      }
      this.value(type, value);
      last = id;
    }
    this.bytes.push(0);
    return this;
  }

  toBuffer(): Buffer {
    this.flush();
    return Buffer.concat(this.chunks);
  }
}

/** The field `id` of a struct, if present. */
export function field(s: ThriftStruct, id: number): ThriftField | undefined {
  return s.fields.find((f) => f.id === id);
}
