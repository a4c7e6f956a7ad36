// CRC-32 (IEEE, as zip, PNG and Python's zlib.crc32 compute it), whole or in pieces: a run
// store checksums each head's rows as windows of them are written, in order. Eight bytes a
// step through eight tables (slicing-by-8): a run checksums every byte it stores, so this
// runs at a few times the speed of the byte-at-a-time loop.

const TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
})();

/** The running state before any byte (crc32Update then crc32Final). */
export const CRC32_START = 0xffffffff;

export function crc32Update(state: number, bytes: Uint8Array): number {
  const t = TABLES;
  let c = state >>> 0;
  let i = 0;
  const n = bytes.length;
  // Eight bytes at a time: the state folds in four, the next four go straight through the tables.
  for (; i + 8 <= n; i += 8) {
    const a = (c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
    c =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + bytes[i + 4]] ^
      t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return c >>> 0;
}

export const crc32Final = (state: number): number => (state ^ 0xffffffff) >>> 0;

export const crc32 = (bytes: Uint8Array): number => crc32Final(crc32Update(CRC32_START, bytes));
