/**
 * The lines of a UTF-8 stream, a chunk at a time: the caller's line handler
 * runs synchronously over a whole chunk, with one await per chunk instead of
 * one (or two) per line as readline's async iterator costs.
 *
 * JSON Lines: a line ends at "\n", and a "\r" before it is dropped (CRLF
 * files); a lone "\r" is JSON whitespace and stays in its line. A leading
 * byte order mark is dropped. Invalid UTF-8 reads as U+FFFD, as readline
 * reads it. Memory stays bounded: a line longer than `maxLineChars` is not
 * kept but reported, by its length, through `onLongLine`.
 */
import { StringDecoder } from "node:string_decoder";

/** 16 Mi characters: far beyond a Kafka message (1 MB by default), far below V8's string limit. */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

export interface LineHandlers {
  /** Called for every line, empty ones included; may return a promise, which is awaited before the next line. */
  onLine(text: string): void | Promise<void>;
  /** A line longer than the limit, dropped; it counts as a line. */
  onLongLine(chars: number): void | Promise<void>;
  /** After each chunk's lines: the bytes consumed so far (for progress) and a chance to flush output. */
  onChunk?(bytesSoFar: number): void | Promise<void>;
}

export async function forEachLine(input: AsyncIterable<Buffer | string>, handlers: LineHandlers, maxLineChars = MAX_LINE_CHARS): Promise<void> {
  const decoder = new StringDecoder("utf8");
  // The start of the current line, from earlier chunks: a list, joined once at its end.
  let pending: string[] = [];
  let pendingChars = 0;
  // Inside a line already over the limit: its remaining characters are counted, not kept.
  let overLong = -1;
  let atStart = true;
  let bytes = 0;

  const endLine = (last: string): void | Promise<void> => {
    if (overLong >= 0) {
      const chars = overLong + last.length;
      overLong = -1;
      return handlers.onLongLine(chars);
    }
    let text = last;
    if (pending.length > 0) {
      pending.push(last);
      text = pending.join("");
      pending = [];
      pendingChars = 0;
    }
    if (text.length > maxLineChars) return handlers.onLongLine(text.length);
    return handlers.onLine(text.charCodeAt(text.length - 1) === 0x0d ? text.slice(0, -1) : text);
  };

  const keep = (part: string): void => {
    if (overLong >= 0) {
      overLong += part.length;
      return;
    }
    pending.push(part);
    pendingChars += part.length;
    if (pendingChars > maxLineChars) {
      overLong = pendingChars;
      pending = [];
      pendingChars = 0;
    }
  };

  for await (const chunk of input) {
    let text = typeof chunk === "string" ? chunk : decoder.write(chunk);
    bytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    if (atStart && text.length > 0) {
      atStart = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    let nl = text.indexOf("\n");
    while (nl !== -1) {
      const r = endLine(text.slice(start, nl));
      if (r !== undefined) await r;
      start = nl + 1;
      nl = text.indexOf("\n", start);
    }
    if (start < text.length) keep(text.slice(start));
    if (handlers.onChunk) {
      const r = handlers.onChunk(bytes);
      if (r !== undefined) await r;
    }
  }
  const rest = decoder.end();
  if (rest.length > 0) keep(rest);
  if (pending.length > 0 || overLong >= 0) {
    const r = endLine("");
    if (r !== undefined) await r;
  }
}
