/**
 * Progress on stderr for long runs: a live line on a terminal, a line every
 * few seconds otherwise (CI logs), nothing for short runs. Progress that was
 * shown ends on a final line, so a log's last word is 100%, not 97%.
 */
export interface Progress {
  tick(done: number, bytes: number): void;
  finish(done: number, bytes: number): void;
}

export function createProgress(totalBytes: number, stream: NodeJS.WriteStream = process.stderr, label = "checked", clock: () => number = Date.now): Progress {
  const start = clock();
  const interval = stream.isTTY ? 200 : 5000;
  let last = start;
  let shown = false;
  const show = (done: number, bytes: number, now: number, end: string) => {
    const seconds = (now - start) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const pct = totalBytes > 0 ? ` ${Math.min(100, Math.floor((bytes / totalBytes) * 100))}%` : "";
    const line = `${label} ${done.toLocaleString("en-US")} messages${pct} (${rate.toLocaleString("en-US")}/s)`;
    stream.write(stream.isTTY ? `\r${line}\x1b[K${end}` : `${line}\n`);
  };
  return {
    tick(done, bytes) {
      const now = clock();
      if (now - last < interval) return;
      last = now;
      shown = true;
      show(done, bytes, now, "");
    },
    finish(done, bytes) {
      if (shown) show(done, bytes, clock(), "\n");
    },
  };
}
