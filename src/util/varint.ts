/** Unsigned varints (base 128, low groups first), as Protobuf and Confluent's message indexes write them: for those indexes, DEK key material (read only) and the packed changelog. */

/** Writes `v`, a non-negative integer below 2^53, at `p`; returns the position after it. The room is there. */
export function writeVarint(out: Uint8Array, p: number, v: number): number {
  while (v >= 0x80) {
    // Past 2^31 the bit operators would wrap: the low seven bits by remainder there.
    const low = v < 0x80000000 ? v & 0x7f : v % 128;
    out[p++] = low | 0x80;
    v = (v - low) / 128;
  }
  out[p++] = v;
  return p;
}

/** Where the last readVarint ended: a pair per read would be an allocation on the wire format's hot path. */
export let varintEnd = 0;

/**
 * Reads a varint of at most `maxBytes` bytes at `p`: its value, or -1 when the bytes end first, it
 * runs longer, or it passes 2^53 - 1. Sets `varintEnd` to the position after it.
 */
export function readVarint(b: Uint8Array, p: number, maxBytes: number): number {
  let v = 0;
  let scale = 1;
  for (let i = 0; i < maxBytes && p < b.length; i++) {
    const byte = b[p++]!;
    v += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      varintEnd = p;
      return v <= Number.MAX_SAFE_INTEGER ? v : -1;
    }
    scale *= 128;
  }
  return -1;
}

/** Zigzag: signed integers as unsigned ones, small magnitudes small (0, -1, 1, -2 … as 0, 1, 2, 3 …). */
export const zigzag = (d: number): number => (d >= 0 ? 2 * d : -2 * d - 1);
export const unzigzag = (z: number): number => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
