/**
 * Schema GUIDs as written in the V1 wire format: the 16 bytes of a UUID,
 * most significant half first, rendered as the usual lower-case 8-4-4-4-12 text.
 */
import { SerializationError } from "../errors.js";

export const GUID_BYTES = 16;

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const GUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Writes the 16 bytes of `guid` into `out` at `offset`. Throws SerializationError on malformed text. */
export function writeGuid(guid: string, out: Uint8Array, offset: number): void {
  if (!GUID_RE.test(guid)) {
    throw new SerializationError("wire-format", `invalid schema GUID "${guid}": expected 8-4-4-4-12 hex digits`);
  }
  let o = offset;
  for (let i = 0; i < 36; i += 2) {
    // skip the dashes at 8, 13, 18, 23
    if (i === 8 || i === 13 || i === 18 || i === 23) i++;
    out[o++] = (hexVal(guid.charCodeAt(i)) << 4) | hexVal(guid.charCodeAt(i + 1));
  }
}

/** Reads 16 bytes at `offset` as a lower-case GUID string. The caller checks the length. */
export function readGuid(bytes: Uint8Array, offset: number): string {
  const b = bytes;
  const o = offset;
  return (
    HEX[b[o]!]! + HEX[b[o + 1]!]! + HEX[b[o + 2]!]! + HEX[b[o + 3]!]! + "-" +
    HEX[b[o + 4]!]! + HEX[b[o + 5]!]! + "-" +
    HEX[b[o + 6]!]! + HEX[b[o + 7]!]! + "-" +
    HEX[b[o + 8]!]! + HEX[b[o + 9]!]! + "-" +
    HEX[b[o + 10]!]! + HEX[b[o + 11]!]! + HEX[b[o + 12]!]! + HEX[b[o + 13]!]! + HEX[b[o + 14]!]! + HEX[b[o + 15]!]!
  );
}

function hexVal(c: number): number {
  // '0'-'9', 'A'-'F', 'a'-'f'; the regex already ruled out anything else
  return c <= 57 ? c - 48 : (c | 0x20) - 87;
}
