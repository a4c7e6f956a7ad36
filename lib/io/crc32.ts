// CRC-32 (IEEE, as zip and PNG use), whole or in pieces: a run store checksums each head's rows
// as windows of them are written, in order.

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The running state before any byte (crc32Update then crc32Final). */
export const CRC32_START = 0xffffffff;

export function crc32Update(state: number, bytes: Uint8Array): number {
  let c = state;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return c >>> 0;
}

export const crc32Final = (state: number): number => (state ^ 0xffffffff) >>> 0;

export const crc32 = (bytes: Uint8Array): number => crc32Final(crc32Update(CRC32_START, bytes));
