/**
 * Buffers for serialized messages, cut from slabs of kontract's own instead of
 * Node's shared Buffer pool (`Buffer.allocUnsafe`).
 *
 * Why: a produced message lives until the broker acknowledges it. In Node's
 * pool, each 8 KB slab is shared with every other small Buffer of the process,
 * most of them short-lived (kafkajs allocates several per record it encodes),
 * and one live message keeps its whole slab alive. Through a real broker,
 * pool-allocated messages cost kafkajs's producer about 1 µs more per message
 * than messages cut from a slab of their own (docs/kafka.md, "Kafka
 * throughput"). Only serialized output comes from here: its lifetimes are alike.
 *
 * A returned Buffer keeps its slab (SLAB_BYTES) alive, as a pooled Buffer keeps
 * Node's 8 KB pool slab alive; copy it (`Buffer.from(buf)`) to keep it long.
 * Everything here is synchronous, so no caller can interleave with another.
 */
// Imported, not the global: in Node 20 the global `Buffer` is an accessor, a getter call on every use.
import { Buffer } from "node:buffer";

/** Big enough for a sendBatch of small messages to use a handful of slabs. */
export const SLAB_BYTES = 32 * 1024;
/** Larger messages get a Buffer of their own: they would waste a slab's rest. */
export const MAX_SLICE = 4 * 1024;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
/**
 * The slab's ArrayBuffer, kept: views are made on it directly. `slab.subarray`
 * reads `slab.buffer` for each view, a call into V8's runtime every message.
 */
let slabBytes = slab.buffer;
let slabOffset = slab.byteOffset;
let used = 0;

function newSlab(): void {
  slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  slabBytes = slab.buffer;
  slabOffset = slab.byteOffset;
  used = 0;
}

/** `slab[start..end]` as a Buffer. */
function view(start: number, end: number): Buffer {
  return Buffer.from(slabBytes, slabOffset + start, end - start);
}

/** An uninitialized Buffer of `size` bytes for a serialized message. */
export function messageBuffer(size: number): Buffer {
  if (size > MAX_SLICE) return Buffer.allocUnsafeSlow(size);
  if (size > SLAB_BYTES - used) newSlab();
  const start = used;
  used += size;
  return view(start, used);
}

/**
 * For writers that learn a message's size by writing it (Avro): the current
 * slab, whose free room starts at `freeStart()`. Write there; when the
 * message ends within the slab, `claim(end)` makes it a Buffer; when not,
 * write it again into `messageBuffer(size)`. Nothing is taken until `claim`.
 */
export function currentSlab(): Buffer {
  return slab;
}

export function freeStart(): number {
  return used;
}

/** The bytes from `freeStart()` to `end` of the current slab, written in place, as a Buffer. */
export function claim(end: number): Buffer {
  if (end < used || end > slab.length) throw new RangeError(`claim(${end}) outside the slab's free room [${used}, ${slab.length}]`);
  const start = used;
  used = end;
  return view(start, end);
}
