/**
 * `schemaFile` is untrusted input: it must name a regular file inside the
 * contract file's folder, of bounded size, and a refusal never echoes the
 * file's contents.
 */
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ContractFileError } from "../../src/contract/load-error.js";
import { scanContractFiles } from "../../src/contract/load-files.js";
import { SCHEMA_FILE_MAX_BYTES } from "../../src/contract/schema-file.js";
import { lintCommand } from "../../src/cli/lint.js";
import { capture, project } from "../helpers/cli.js";

const AVRO = `{"type":"record","name":"A","fields":[{"name":"x","type":"string"}]}`;

function refusal(dir: string, file = "a.yaml") {
  const { documents, errors } = scanContractFiles(join(dir, file));
  assert.equal(documents.length, 0);
  assert.equal(errors.length, 1, errors.map((e) => e.message).join("\n"));
  const e = errors[0] as ContractFileError;
  assert.ok(e instanceof ContractFileError);
  assert.equal(e.code, "contract-invalid");
  assert.equal(e.issue, "schema-file-refused");
  assert.equal(e.path, "schemaFile");
  assert.deepEqual([e.position?.file, e.position?.line, e.position?.column], [join(dir, file), 2, 13]);
  return e;
}

describe("schemaFile resolution", () => {
  it("reads a schema file in a subfolder of the contract's folder", () => {
    const dir = project({ "a.yaml": "subject: a\nschemaFile: schemas/a.avsc\n", "schemas/a.avsc": AVRO });
    const { documents, errors } = scanContractFiles(dir);
    assert.deepEqual(errors, []);
    assert.equal(documents[0]!.contract.schema, AVRO);
  });

  it("refuses an absolute path, without echoing the file", () => {
    const dir = project({ "a.yaml": "subject: a\nschemaFile: /proc/self/environ\n" });
    const e = refusal(dir);
    assert.match(e.message, /absolute/);
    assert.ok(!e.message.includes(process.env.PATH ?? "\u0000"));
  });

  it("refuses a path that climbs out of the contract's folder", () => {
    const dir = project({ "rules/a.yaml": "subject: a\nschemaFile: schemas/../../secret.avsc\n", "secret.avsc": AVRO });
    assert.match(refusal(join(dir, "rules")).message, /outside/);
  });

  it("refuses a symlink that leads out of the folder", () => {
    const dir = project({ "rules/a.yaml": "subject: a\nschemaFile: schemas/a.avsc\n", "secret.avsc": AVRO });
    mkdirSync(join(dir, "rules/schemas"));
    symlinkSync(join(dir, "secret.avsc"), join(dir, "rules/schemas/a.avsc"));
    assert.match(refusal(join(dir, "rules")).message, /outside/);
  });

  it("refuses special files: a FIFO (which would block a read forever), a folder, a link to /dev/zero", () => {
    const dir = project({ "a.yaml": "subject: a\nschemaFile: fifo.avsc\n", "b.yaml": "subject: b\nschemaFile: sub\n", "c.yaml": "subject: c\nschemaFile: zero.avsc\n" });
    assert.equal(spawnSync("mkfifo", [join(dir, "fifo.avsc")]).status, 0);
    assert.match(refusal(dir, "a.yaml").message, /not a regular file/);
    mkdirSync(join(dir, "sub"));
    assert.match(refusal(dir, "b.yaml").message, /not a regular file/);
    symlinkSync("/dev/zero", join(dir, "zero.avsc"));
    assert.match(refusal(dir, "c.yaml").message, /outside/);
  });

  it("refuses a file over the size cap", () => {
    const dir = project({ "a.yaml": "subject: a\nschemaFile: big.avsc\n", "big.avsc": " ".repeat(SCHEMA_FILE_MAX_BYTES + 1) });
    assert.match(refusal(dir).message, /larger than/);
  });

  it("refuses a name with a NUL byte instead of crashing", () => {
    const dir = project({ "a.yaml": 'subject: a\nschemaFile: "a\\0.avsc"\n' });
    assert.match(refusal(dir).message, /NUL/);
  });

  it("kontract lint reports the refusal with a code and never prints the file", async () => {
    const dir = project({ "rules/a.yaml": "subject: a\nschemaFile: /proc/self/environ\n" });
    const r = await capture(lintCommand, dir, ["rules", "--no-config"]);
    assert.equal(r.code, 1);
    assert.match(r.out, /schema-file-refused/);
    assert.ok(!r.out.includes(process.env.PATH ?? "\u0000"), r.out);
  });

  it("kontract lint refuses /dev/zero instead of reading it", async () => {
    const dir = project({ "rules/a.yaml": "subject: a\nschemaFile: /dev/zero\n" });
    const r = await capture(lintCommand, dir, ["rules", "--no-config", "-f", "json"]);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.out).diagnostics.map((d: { code: string }) => d.code), ["schema-file-refused"]);
  });
});
