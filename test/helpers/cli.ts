/**
 * Running CLI commands in-process against a throwaway project directory.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";

/** A temporary directory holding `files` (relative path to content). */
export function project(files: Record<string, string>, prefix = "kontract-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

type Command = (args: string[], io: { stdout: Writable; cwd: string; env: Record<string, string> }) => Promise<number>;

/** Runs a command with an empty environment, capturing what it writes to stdout. */
export async function capture(command: Command, cwd: string, args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const stdout = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  const code = await command(args, { stdout, cwd, env: {} });
  return { code, out };
}
