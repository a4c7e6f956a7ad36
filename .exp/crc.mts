import { crc32 } from '/work/main/lib/io/crc32';
import { crc32 as z } from 'node:zlib';
const b = new Uint8Array(64 << 20);
for (let i = 0; i < b.length; i++) b[i] = (i * 2654435761) >>> 24;
for (const len of [0, 1, 7, 8, 9, 1000, b.length]) {
  const s = b.subarray(3, 3 + len);
  if (crc32(s) !== z(s)) throw new Error('mismatch ' + len);
}
let t = performance.now();
crc32(b);
const ms = performance.now() - t;
console.log(`ok; ${(64 / (ms / 1000)).toFixed(0)} MB/s`);
