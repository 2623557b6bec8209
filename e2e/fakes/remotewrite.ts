/**
 * Decoding what a Prometheus remote_write sender posts: a snappy block (not framed) of a
 * protobuf `prometheus.WriteRequest`. Written from the two formats, for the Connect stand-in.
 */

/** One series of a WriteRequest with its samples. */
export interface TimeSeries {
  readonly labels: Record<string, string>;
  readonly samples: ReadonlyArray<{ readonly value: number; readonly timestamp: number }>;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  done(): boolean {
    return this.pos >= this.buf.length;
  }
  byte(): number {
    if (this.pos >= this.buf.length) throw new Error('unexpected end of input');
    return this.buf[this.pos++] ?? 0;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  }
  bytes(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new Error('unexpected end of input');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  littleEndian(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v += this.byte() * 2 ** (8 * i);
    return v;
  }
}

/** Decompresses one snappy block: a varint length, then literals and back-references. */
export function decodeSnappy(input: Buffer): Buffer {
  const r = new Reader(input);
  const out = Buffer.alloc(r.varint());
  let at = 0;
  const copy = (offset: number, length: number) => {
    if (offset === 0 || offset > at || at + length > out.length) throw new Error('bad snappy back-reference');
    for (let i = 0; i < length; i++, at++) out[at] = out[at - offset] ?? 0;
  };
  while (!r.done()) {
    const tag = r.byte();
    switch (tag & 3) {
      case 0: {
        let length = tag >> 2;
        if (length >= 60) length = r.littleEndian(length - 59);
        const literal = r.bytes(length + 1);
        if (at + literal.length > out.length) throw new Error('snappy literal past the end');
        literal.copy(out, at);
        at += literal.length;
        break;
      }
      case 1:
        copy(((tag >> 5) << 8) | r.byte(), 4 + ((tag >> 2) & 7));
        break;
      case 2:
        copy(r.littleEndian(2), (tag >> 2) + 1);
        break;
      default:
        copy(r.littleEndian(4), (tag >> 2) + 1);
    }
  }
  if (at !== out.length) throw new Error(`snappy block decoded to ${at} of ${out.length} bytes`);
  return out;
}

/** The fields of one protobuf message: field number, wire type, and the value read. */
function* fields(buf: Buffer): Generator<{ field: number; wire: number; value: Buffer | number }> {
  const r = new Reader(buf);
  while (!r.done()) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield { field, wire, value: r.varint() };
    else if (wire === 1) yield { field, wire, value: r.bytes(8) };
    else if (wire === 2) yield { field, wire, value: r.bytes(r.varint()) };
    else if (wire === 5) yield { field, wire, value: r.bytes(4) };
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

function label(buf: Buffer): [string, string] {
  let name = '';
  let value = '';
  for (const f of fields(buf)) {
    if (f.field === 1 && Buffer.isBuffer(f.value)) name = f.value.toString('utf8');
    if (f.field === 2 && Buffer.isBuffer(f.value)) value = f.value.toString('utf8');
  }
  return [name, value];
}

function sample(buf: Buffer): { value: number; timestamp: number } {
  let value = 0;
  let timestamp = 0;
  for (const f of fields(buf)) {
    if (f.field === 1 && Buffer.isBuffer(f.value)) value = f.value.readDoubleLE(0);
    if (f.field === 2 && typeof f.value === 'number') timestamp = f.value;
  }
  return { value, timestamp };
}

/** The series of a `prometheus.WriteRequest` (field 1: timeseries; metadata is ignored). */
export function decodeWriteRequest(buf: Buffer): TimeSeries[] {
  const series: TimeSeries[] = [];
  for (const f of fields(buf)) {
    if (f.field !== 1 || !Buffer.isBuffer(f.value)) continue;
    const labels: Record<string, string> = {};
    const samples: Array<{ value: number; timestamp: number }> = [];
    for (const g of fields(f.value)) {
      if (!Buffer.isBuffer(g.value)) continue;
      if (g.field === 1) {
        const [name, value] = label(g.value);
        labels[name] = value;
      } else if (g.field === 2) samples.push(sample(g.value));
    }
    series.push({ labels, samples });
  }
  return series;
}
