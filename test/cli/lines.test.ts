/**
 * The line reader under `kontract check`: JSON Lines split a chunk at a time,
 * whatever the chunk boundaries.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { forEachLine } from "../../src/cli/lines.js";

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Buffer | string> {
  for (const p of parts) yield typeof p === "string" ? Buffer.from(p, "utf8") : p;
}

async function linesOf(input: AsyncIterable<Buffer | string>, max?: number) {
  const lines: string[] = [];
  const long: number[] = [];
  const bytes: number[] = [];
  await forEachLine(
    input,
    {
      onLine: (t) => void lines.push(t),
      onLongLine: (n) => {
        long.push(n);
        lines.push(`<long ${n}>`);
      },
      onChunk: (b) => void bytes.push(b),
    },
    max,
  );
  return { lines, long, bytes };
}

/** Every way to cut `text` in two chunks gives the same lines as one chunk. */
async function sameAtEveryCut(text: string, expected: string[]): Promise<void> {
  const buf = Buffer.from(text, "utf8");
  for (let cut = 0; cut <= buf.length; cut++) {
    const { lines } = await linesOf(chunks(buf.subarray(0, cut), buf.subarray(cut)));
    assert.deepEqual(lines, expected, `cut at byte ${cut}`);
  }
}

test("lines end at \\n, CRLF loses its \\r, a last line without \\n still counts, empty lines are reported", async () => {
  await sameAtEveryCut('{"a":1}\r\n\n{"b":"x"}\n  \n{"c":2}', ['{"a":1}', "", '{"b":"x"}', "  ", '{"c":2}']);
  await sameAtEveryCut("a\nb\n", ["a", "b"]);
  await sameAtEveryCut("", []);
});

test("a lone \\r is JSON whitespace and stays in its line (readline would have split there)", async () => {
  await sameAtEveryCut('{"a":\r1}\n', ['{"a":\r1}']);
});

test("a byte order mark at the start is dropped, one later is kept; multi-byte characters survive any chunk boundary", async () => {
  await sameAtEveryCut('\ufeff{"s":"é€😀"}\n\ufeffx\n', ['{"s":"é€😀"}', "\ufeffx"]);
});

test("invalid UTF-8 reads as U+FFFD", async () => {
  const { lines } = await linesOf(chunks(Buffer.from([0x61, 0xff, 0x62, 0x0a])));
  assert.deepEqual(lines, ["a\ufffdb"]);
});

test("a line over the limit is reported by its length, not kept, and the lines after it are read", async () => {
  const long = "x".repeat(50);
  const expected = ["ok", "<long 50>", "fine", "<long 40>"];
  const r = await linesOf(chunks("ok\n" + long.slice(0, 7), long.slice(7, 30), long.slice(30) + "\nfine\n" + "y".repeat(40)), 20);
  assert.deepEqual(r.lines, expected);
  // In one chunk too, and exactly at the limit is still a line.
  assert.deepEqual((await linesOf(chunks(`ok\n${long}\nfine\n${"y".repeat(40)}`), 20)).lines, expected);
  assert.deepEqual((await linesOf(chunks("z".repeat(20) + "\n"), 20)).lines, ["z".repeat(20)]);
});

test("onChunk reports the bytes consumed, ending at the input's size", async () => {
  const { bytes } = await linesOf(chunks("ab\n", "é\n", "c"));
  assert.deepEqual(bytes, [3, 6, 7]);
});

test("a handler's promise is awaited before the next line", async () => {
  const seen: string[] = [];
  await forEachLine(chunks("a\nb\nc\n"), {
    onLine: (t) =>
      t === "a"
        ? new Promise<void>((resolve) =>
            setImmediate(() => {
              seen.push(t);
              resolve();
            }),
          )
        : void seen.push(t),
    onLongLine: () => assert.fail("no long lines here"),
  });
  assert.deepEqual(seen, ["a", "b", "c"]);
});
