/**
 * The lines of a UTF-8 stream, a chunk at a time: the caller's line handler
 * runs synchronously over a whole chunk, with one await per chunk instead of
 * one (or two) per line as readline's async iterator costs.
 *
 * Lines are cut in the bytes and each is decoded on its own: a "\n" byte is
 * never part of a multi-byte character, so no character spans two lines, and
 * no string is made of a whole chunk (line strings sliced from one would keep
 * it, and the garbage collector busy, while any of them lives).
 *
 * JSON Lines: a line ends at "\n", and a "\r" before it is dropped (CRLF
 * files); a lone "\r" is JSON whitespace and stays in its line. A byte order
 * mark at the start is dropped. Invalid UTF-8 reads as U+FFFD, as readline
 * reads it. Memory stays bounded: a line longer than `maxLineBytes` is not
 * kept but reported, by its length, through `onLongLine`.
 */

/** 16 MiB: far beyond a Kafka message (1 MB by default), far below V8's string limit. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface LineHandlers {
  /** Called for every line, empty ones included; may return a promise, which is awaited before the next line. */
  onLine(text: string): void | Promise<void>;
  /** A line longer than the limit, dropped; it counts as a line. */
  onLongLine(bytes: number): void | Promise<void>;
  /** After each chunk's lines: the bytes consumed so far (for progress) and a chance to flush output. */
  onChunk?(bytesSoFar: number): void | Promise<void>;
}

/** Node's Buffer, whose decoder (undocumented, as avsc also calls it) skips toString's argument checks. */
type Utf8Sliceable = Buffer & { utf8Slice(start: number, end: number): string };

const LF = 0x0a;
const CR = 0x0d;

export async function forEachLine(input: AsyncIterable<Buffer | string>, handlers: LineHandlers, maxLineBytes = MAX_LINE_BYTES): Promise<void> {
  // The start of the current line, from earlier chunks: a list, joined once at its end.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // Inside a line already over the limit: its remaining bytes are counted, not kept.
  let overLong = -1;
  let first = true;
  let bytes = 0;

  const line = (buf: Buffer, start: number, end: number): void | Promise<void> => {
    if (end > start && buf[end - 1] === CR) end--;
    // utf8Slice: what toString("utf8", …) ends in, without its argument checks (a call per line).
    let text = (buf as Utf8Sliceable).utf8Slice(start, end);
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return handlers.onLine(text);
  };

  const endLine = (chunk: Buffer, end: number): void | Promise<void> => {
    if (overLong >= 0) {
      const total = overLong + end;
      overLong = -1;
      first = false;
      return handlers.onLongLine(total);
    }
    if (pending.length === 0) return end > maxLineBytes ? longLine(end) : line(chunk, 0, end);
    pending.push(chunk.subarray(0, end));
    const whole = Buffer.concat(pending, pendingBytes + end);
    pending = [];
    pendingBytes = 0;
    return whole.length > maxLineBytes ? longLine(whole.length) : line(whole, 0, whole.length);
  };

  const longLine = (total: number): void | Promise<void> => {
    first = false;
    return handlers.onLongLine(total);
  };

  const keep = (part: Buffer): void => {
    if (part.length === 0) return;
    if (overLong >= 0) {
      overLong += part.length;
      return;
    }
    // Copied: the stream may reuse its chunk.
    pending.push(Buffer.from(part));
    pendingBytes += part.length;
    if (pendingBytes > maxLineBytes) {
      overLong = pendingBytes;
      pending = [];
      pendingBytes = 0;
    }
  };

  for await (const data of input) {
    const chunk = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    bytes += chunk.length;
    let nl = chunk.indexOf(LF);
    if (nl === -1) {
      keep(chunk);
    } else {
      // The first line of the chunk may have begun in earlier ones.
      let r = endLine(chunk, nl);
      if (r !== undefined) await r;
      let start = nl + 1;
      nl = chunk.indexOf(LF, start);
      while (nl !== -1) {
        r = nl - start > maxLineBytes ? longLine(nl - start) : line(chunk, start, nl);
        if (r !== undefined) await r;
        start = nl + 1;
        nl = chunk.indexOf(LF, start);
      }
      if (start < chunk.length) keep(chunk.subarray(start));
    }
    if (handlers.onChunk) {
      const r = handlers.onChunk(bytes);
      if (r !== undefined) await r;
    }
  }
  if (pending.length > 0 || overLong >= 0) {
    const r = endLine(Buffer.alloc(0), 0);
    if (r !== undefined) await r;
  }
}
