import { messageBuffer } from "../util/message-buffers.js";

/**
 * `bytes` behind `headroom` unwritten bytes, for formats whose encoder cannot
 * write at an offset (see CompiledSchema.encode). A Node Buffer, so kafkajs
 * sends it without another copy.
 */
export function withHeadroom(bytes: Uint8Array, headroom: number): Uint8Array {
  if (headroom === 0) return bytes;
  const out = messageBuffer(headroom + bytes.length);
  out.set(bytes, headroom);
  return out;
}
