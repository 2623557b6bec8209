import { describe, expect, it } from 'vitest';
import { decodeSnappy, decodeWriteRequest } from './remotewrite.js';

/** A protobuf field: key, then a length-delimited payload. */
function field(n: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(n << 3) | 2, payload.length]), payload]);
}
const str = (s: string) => Buffer.from(s);

describe('decodeSnappy', () => {
  it('decodes literals and 1-byte-offset back-references', () => {
    // 9 bytes: the literal "abc", then a copy of 6 bytes from 3 back.
    expect(decodeSnappy(Buffer.from([9, 0x08, 0x61, 0x62, 0x63, 0x09, 0x03])).toString()).toBe('abcabcabc');
  });

  it('decodes 2-byte-offset back-references', () => {
    // "xy" then a copy of 4 bytes from 2 back (tag 0b000011_10, offset 2 little-endian).
    expect(decodeSnappy(Buffer.from([6, 0x04, 0x78, 0x79, (3 << 2) | 2, 2, 0])).toString()).toBe('xyxyxy');
  });

  it('refuses a back-reference before the start, and a short block', () => {
    expect(() => decodeSnappy(Buffer.from([4, 0x05, 0x09]))).toThrow();
    expect(() => decodeSnappy(Buffer.from([5, 0x00, 0x61]))).toThrow('decoded to 1 of 5');
  });
});

describe('decodeWriteRequest', () => {
  it('reads labels and samples of each series', () => {
    const value = Buffer.alloc(8);
    value.writeDoubleLE(42.5);
    const sample = Buffer.concat([Buffer.from([(1 << 3) | 1]), value, Buffer.from([2 << 3, 0xe8, 0x07])]);
    const series = Buffer.concat([field(1, Buffer.concat([field(1, str('__name__')), field(2, str('up'))])), field(2, sample)]);
    expect(decodeWriteRequest(field(1, series))).toEqual([{ labels: { __name__: 'up' }, samples: [{ value: 42.5, timestamp: 1000 }] }]);
  });
});
