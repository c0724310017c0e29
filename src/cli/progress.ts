/**
 * Progress on stderr for long runs: a live line on a terminal, a line every
 * few seconds otherwise (CI logs), nothing for short runs.
 */
export interface Progress {
  tick(done: number, bytes: number): void;
  finish(): void;
}

export function createProgress(totalBytes: number, stream: NodeJS.WriteStream = process.stderr, label = "checked"): Progress {
  const start = Date.now();
  const interval = stream.isTTY ? 200 : 5000;
  let last = start;
  let shown = false;
  return {
    tick(done, bytes) {
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      shown = true;
      const rate = Math.round(done / ((now - start) / 1000));
      const pct = totalBytes > 0 ? ` ${Math.min(100, Math.floor((bytes / totalBytes) * 100))}%` : "";
      const line = `${label} ${done.toLocaleString("en-US")} messages${pct} (${rate.toLocaleString("en-US")}/s)`;
      if (stream.isTTY) stream.write(`\r${line}\x1b[K`);
      else stream.write(line + "\n");
    },
    finish() {
      if (shown && stream.isTTY) stream.write("\r\x1b[K");
    },
  };
}
