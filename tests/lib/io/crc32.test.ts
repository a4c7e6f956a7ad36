// CRC-32 eight bytes a step, against Node's zlib (the same checksum as Python's zlib.crc32),
// whole and fed in pieces of every alignment.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CRC32_START, crc32, crc32Final, crc32Update } from '../../../lib/io/crc32';
import { seededRandom } from '../../../lib/util/random';

describe('crc32', () => {
  it('equals zlib’s for every length 0…64 and for megabytes, and in pieces of any size', () => {
    const rand = seededRandom(3);
    const bytes = Uint8Array.from({ length: 3 << 20 }, () => Math.floor(rand() * 256));
    for (let n = 0; n <= 64; n++) expect(crc32(bytes.subarray(5, 5 + n))).toBe(zlibCrc32(bytes.subarray(5, 5 + n)));
    expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    let state = CRC32_START;
    for (let at = 0, step = 1; at < bytes.length; at += step, step = (step * 7 + 3) % 100_003) state = crc32Update(state, bytes.subarray(at, at + step));
    expect(crc32Final(state)).toBe(zlibCrc32(bytes));
  });
});
