/** Unsigned varints (base 128, low groups first), as Protobuf, Avro and Confluent's message indexes write them. */

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
