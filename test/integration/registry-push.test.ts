/**
 * `kontract plan` and `kontract push` against the real registry of scripts/infra.sh: a fresh
 * subject, versions registered one by one, a ruleSet-only change, a conflict, idempotent pushes,
 * references pushed first, a compatibility refusal, and a registry that is down.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { Writable } from "node:stream";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { checkCommand } from "../../src/cli/check.js";
import { diffCommand } from "../../src/cli/diff.js";
import { planCommand, pullCommand, pushCommand } from "../../src/cli/registry-commands.js";
import { lintSources } from "../../src/lint/index.js";
import { loadContractFiles } from "../../src/contract/index.js";
import { isErrorCode } from "../../src/errors.js";
import { createRestRegistry } from "../../src/registry/rest/index.js";
import { capture, project } from "../helpers/cli.js";
import { ensureInfra, uniqueName } from "../helpers/infra.js";

const ORDER = `schema:
  type: record
  name: Order
  namespace: acme.plan
  fields:
    - {name: id, type: string}
    - {name: amount, type: double}
    - {name: email, type: string, "confluent:tags": [PII]}
metadata:
  properties: {owner: team-orders}`;

/** Two versions of one subject: the second changes only the rules. */
const contracts = (subject: string) => `subject: ${subject}
version: 1
${ORDER}
ruleSet:
  domainRules:
    - {name: amountPositive, kind: CONDITION, mode: WRITE, type: CEL, expr: "message.amount > 0.0"}
---
subject: ${subject}
version: 2
${ORDER}
ruleSet:
  domainRules:
    - {name: amountPositive, kind: CONDITION, mode: WRITE, type: CEL, expr: "message.amount > 0.0", onFailure: DLQ}
    - {name: maskEmail, kind: TRANSFORM, mode: WRITE, type: CEL_FIELD, tags: [PII], expr: "'***'"}
`;

describe("kontract plan against the real registry", () => {
  let url: string;
  before(async () => {
    url = (await ensureInfra()).registryUrl;
  });

  it("plans a new subject, then each version left, then nothing; a changed registered version is a conflict", async () => {
    const subject = uniqueName("plan-value");
    const dir = project({ "rules/orders.yaml": contracts(subject) });
    const plan = (...extra: string[]) => capture(planCommand, dir, ["--registry", url, ...extra]);

    let r = await plan();
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`\\+ ${subject}\\s+new subject: v1, v2`));
    assert.equal((await plan("--detailed-exitcode")).code, 1);

    const registry = createRestRegistry({ url });
    const [v1, v2] = loadContractFiles(join(dir, "rules"));
    await registry.register(subject, v1!.contract);
    r = await plan("--json");
    const json = JSON.parse(r.out) as { subjects: { toRegister: { version: number; changed: string[]; rules: string[] }[] }[] };
    assert.deepEqual(json.subjects[0]!.toRegister.map((v) => [v.version, v.changed, v.rules]), [[2, ["ruleSet"], ["~amountPositive", "+maskEmail"]]]);
    r = await plan();
    assert.match(r.out, /v2: ruleSet only, same schema; rules ~amountPositive \+maskEmail/);

    // What the registry stores (it adds confluent:version, may re-space the schema) still counts as the same.
    await registry.register(subject, v2!.contract);
    r = await plan("--detailed-exitcode");
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`= ${subject}\\s+up to date \\(v2\\)`));
    assert.match(r.out, /No changes/);

    // Editing a registered version is a conflict: the registry would keep the old one.
    const file = join(dir, "rules/orders.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace('expr: "message.amount > 0.0"}', 'expr: "message.amount >= 0.0"}'));
    r = await plan();
    assert.equal(r.code, 2);
    assert.match(r.out, new RegExp(`! ${subject}\\s+v1 differs from the registered v1 \\(ruleSet\\)`));
  });

  it("push registers every version, reads them back, and a second push registers nothing", async () => {
    const subject = uniqueName("push-value");
    const dir = project({ "rules/orders.yaml": contracts(subject) });
    const push = (...extra: string[]) => capture(pushCommand, dir, ["--registry", url, ...extra]);
    assert.equal((await push("--dry-run")).code, 0);
    const registry = createRestRegistry({ url });
    await assert.rejects(registry.versions(subject), (e: unknown) => isErrorCode(e, "unknown-schema"), "--dry-run registers nothing");

    let r = await push();
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`registered ${subject} v1 as v1`));
    assert.match(r.out, new RegExp(`registered ${subject} v2 as v2`));
    const stored = await registry.getVersion(subject, 2);
    assert.deepEqual(stored.ruleSet?.domainRules?.map((x) => x.name), ["amountPositive", "maskEmail"]);
    assert.equal(stored.metadata?.properties?.owner, "team-orders");

    r = await push("--json");
    assert.deepEqual((JSON.parse(r.out) as { pushed: unknown[] }).pushed, []);
    assert.deepEqual(await registry.versions(subject), [1, 2]);
  });

  it("push registers a referenced subject before the subject that references it", async () => {
    const address = uniqueName("address-value");
    const customer = uniqueName("customer-value");
    const addressSchema = `{"type":"record","name":"Address","namespace":"acme.push","fields":[{"name":"city","type":"string"}]}`;
    const customerSchema = `{"type":"record","name":"Customer","namespace":"acme.push","fields":[{"name":"home","type":"acme.push.Address"}]}`;
    // The referencing subject's file sorts first, so file order alone would push it first.
    const dir = project({
      "rules/a-customer.yaml": `subject: ${customer}\nschema: '${customerSchema}'\nreferences:\n  - {name: acme.push.Address, subject: ${address}, version: 1}\n`,
      "rules/b-address.yaml": `subject: ${address}\nschema: '${addressSchema}'\n`,
    });
    const r = await capture(pushCommand, dir, ["--registry", url]);
    assert.equal(r.code, 0, r.out);
    assert.ok(r.out.indexOf(`registered ${address}`) < r.out.indexOf(`registered ${customer}`), r.out);
  });

  it("push stops at a version the registry's compatibility check refuses, with the registry's message", async () => {
    const subject = uniqueName("compat-value");
    const registry = createRestRegistry({ url });
    await registry.updateConfig(subject, { compatibility: "BACKWARD" });
    const schema = (type: string) => `{"type":"record","name":"C","namespace":"acme.push","fields":[{"name":"id","type":"${type}"}]}`;
    const dir = project({ "rules/c.yaml": `subject: ${subject}\nschema: '${schema("string")}'\n---\nsubject: ${subject}\nschema: '${schema("int")}'\n` });
    await assert.rejects(capture(pushCommand, dir, ["--registry", url]), (e: unknown) => isErrorCode(e, "registry") && /incompatible|compatib/i.test((e as Error).message));
    assert.deepEqual(await registry.versions(subject), [1], "the first version was pushed, the refused one not");
  });

  it("pull writes YAML and schema files that push again as no change, and lint clean, for all three formats", async () => {
    const orders = uniqueName("pull-value");
    const people = uniqueName("people-value");
    const payments = uniqueName("payments-value");
    const source = project({
      "rules/orders.yaml": contracts(orders),
      "rules/people.yaml": `subject: ${people}\nschemaType: JSON\nschema: '{"type":"object","properties":{"name":{"type":"string"},"ssn":{"type":"string","confluent:tags":["PII"]}},"required":["name"]}'\nruleSet:\n  domainRules:\n    - {name: named, kind: CONDITION, mode: WRITEREAD, type: CEL, expr: "size(message.name) > 0", onFailure: "DLQ,NONE"}\n`,
      "rules/payments.yaml": `subject: ${payments}\nschemaType: PROTOBUF\nschema: |\n  syntax = "proto3";\n  package acme.pull;\n  message Payment {\n    string card_number = 1;\n    int64 amount_cents = 2;\n  }\nmetadata:\n  tags: {acme.pull.Payment.card_number: [PII]}\n`,
    });
    assert.equal((await capture(pushCommand, source, ["--registry", url])).code, 0);

    const pulled = project({});
    const r = await capture(pullCommand, pulled, ["--registry", url, "--out", "rules", orders, people, payments]);
    assert.equal(r.code, 0, r.out);
    const files = readdirSync(join(pulled, "rules"), { recursive: true }).map(String).sort();
    assert.ok(files.includes(`${orders}.yaml`) && files.includes(`schemas/${orders}-v2.avsc`) && files.includes(`schemas/${payments}-v1.proto`), files.join(" "));
    assert.doesNotMatch(readFileSync(join(pulled, "rules", `${orders}.yaml`), "utf8"), /confluent:version|\bid:/);

    const again = await capture(planCommand, pulled, ["--registry", url, "--detailed-exitcode"]);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /No changes/);

    const yamls = readdirSync(join(pulled, "rules")).filter((f) => f.endsWith(".yaml")).map((f) => join(pulled, "rules", f));
    const lint = lintSources(yamls.map((file) => ({ file, text: readFileSync(file, "utf8") })), { readFile: (p) => readFileSync(p, "utf8") });
    assert.deepEqual(lint.diagnostics.filter((d) => d.severity === "error" || d.severity === "warning").map((d) => `${d.code}: ${d.message}`), []);
  });

  it("diff: pulled files against rules/, and the registry against rules/, are equal; a tightened rule is caught by --fail-on", async () => {
    const subject = uniqueName("diff-value");
    const source = project({ "rules/orders.yaml": contracts(subject) });
    assert.equal((await capture(pushCommand, source, ["--registry", url])).code, 0);
    const pulled = project({});
    assert.equal((await capture(pullCommand, pulled, ["--registry", url, "--out", "rules", subject])).code, 0);

    const files = await capture(diffCommand, source, ["rules", join(pulled, "rules"), "--fail-on", "any"]);
    assert.equal(files.code, 0, files.out);
    assert.match(files.out, /No changes/);
    const registry = await capture(diffCommand, source, [url, "rules", "--fail-on", "any"]);
    assert.equal(registry.code, 0, registry.out);
    assert.match(registry.out, new RegExp(`${subject} {2}v2: unchanged`));

    writeFileSync(join(source, "rules/orders.yaml"), contracts(subject).replace('onFailure: DLQ}', 'onFailure: NONE}').replace(/expr: "message.amount > 0.0", onFailure: NONE/, 'expr: "message.amount > 10.0", onFailure: ERROR'));
    const changed = await capture(diffCommand, source, ["registry", "rules", "--registry", url, "--fail-on", "tightening"]);
    assert.equal(changed.code, 1, changed.out);
    assert.match(changed.out, /tightening {2}rule amountPositive in domainRules: expr changed/);
  });

  it("pull of a subject the registry does not have is a usage error naming it", async () => {
    const missing = uniqueName("missing-value");
    await assert.rejects(capture(pullCommand, project({}), ["--registry", url, missing]), new RegExp(`no subject ${missing}`));
  });

  it("check --registry runs the main job on the registry's contract", async () => {
    const subject = uniqueName("check-value");
    const dir = project({
      "rules/orders.yaml": contracts(subject),
      "orders.jsonl": '{"id":"o-1","amount":5,"email":"a@b.c"}\n{"id":"o-2","amount":-1,"email":"d@e.f"}\n',
    });
    assert.equal((await capture(pushCommand, dir, ["--registry", url])).code, 0);
    let out = "";
    const sink = new Writable({ write: (chunk, _e, done) => ((out += String(chunk)), done()) });
    const code = await checkCommand([subject, join(dir, "orders.jsonl"), "--registry", url, "--json", "--dlq", join(dir, "dlq.jsonl")], sink);
    const summary = JSON.parse(out) as { version: number; passed: number; failed: number; byRule: Record<string, { failed: number; action: string }> };
    assert.equal(code, 1);
    assert.deepEqual([summary.version, summary.passed, summary.failed], [2, 1, 1]);
    assert.deepEqual(summary.byRule.amountPositive, { failed: 1, warned: 0, action: "DLQ" });
    assert.doesNotMatch(readFileSync(join(dir, "dlq.jsonl"), "utf8"), /d@e\.f/, "the PII email is redacted in the dead letters");
  });

  it("the registry can come from kontract.config.yaml", async () => {
    const subject = uniqueName("config-value");
    const dir = project({ "rules/orders.yaml": contracts(subject), "kontract.config.yaml": `registry:\n  url: ${url}\n` });
    const r = await capture(planCommand, dir, []);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`\\+ ${subject}\\s+new subject`));
  });

  it("push sets the subject config the files give before the versions, and reads it back", async () => {
    const subject = uniqueName("config-value");
    const dir = project({ "rules/orders.yaml": contracts(subject).replace("version: 1\n", "version: 1\nconfig: {compatibility: FULL}\n") });
    let r = await capture(planCommand, dir, ["--registry", url]);
    assert.match(r.out, new RegExp(`~ ${subject}\\s+config: compatibility FULL`));
    assert.match(r.out, /1 subject config to set/);
    r = await capture(pushCommand, dir, ["--registry", url]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`and the config of ${subject}`));
    assert.equal((await createRestRegistry({ url }).getConfig(subject))?.compatibility, "FULL");
    r = await capture(planCommand, dir, ["--registry", url, "--detailed-exitcode"]);
    assert.equal(r.code, 0, r.out);

    // pull writes the config on the subject's first document; pushing that back changes nothing.
    const pulled = project({});
    assert.equal((await capture(pullCommand, pulled, ["--registry", url, subject])).code, 0);
    const text = readFileSync(join(pulled, "rules", `${subject}.yaml`), "utf8");
    assert.match(text.split("---")[0]!, /config:\n {2}compatibility: FULL/);
    assert.equal(text.split("---")[1]!.includes("config:"), false);
    r = await capture(planCommand, pulled, ["--registry", url, "--detailed-exitcode"]);
    assert.equal(r.code, 0, r.out);
  });

  it("a registry that does not store a config key the files set fails the push before any version (AxonOps has no compatibilityGroup)", async () => {
    // The shipped orders contract: v2 is a major version with migration rules, accepted by a
    // Confluent registry once the subject's compatibilityGroup is set. AxonOps 0.2.1 answers the
    // PUT without storing the group: the push must say so, not go on and fail v2 obscurely.
    const subject = uniqueName("orders-value");
    const shipped = join(import.meta.dirname, "../../rules");
    const dir = project({
      "rules/orders.yaml": readFileSync(join(shipped, "orders.yaml"), "utf8").replaceAll("subject: orders-value", `subject: ${subject}`),
      "rules/schemas/orders-v1.avsc": readFileSync(join(shipped, "schemas/orders-v1.avsc"), "utf8"),
      "rules/schemas/orders-v2.avsc": readFileSync(join(shipped, "schemas/orders-v2.avsc"), "utf8"),
    });
    const r = await capture(planCommand, dir, ["--registry", url]);
    assert.match(r.out, new RegExp(`~ ${subject}\\s+config: compatibilityGroup application\\.major\\.version`));
    await assert.rejects(capture(pushCommand, dir, ["--registry", url]), (e: unknown) => isErrorCode(e, "registry") && /did not store compatibilityGroup/.test((e as Error).message));
    await assert.rejects(createRestRegistry({ url }).versions(subject), (e: unknown) => isErrorCode(e, "unknown-schema"), "no version was registered");
  });

  it("a registry that is down is a registry-unreachable error (exit 2 from the CLI)", async () => {
    const dir = project({ "rules/orders.yaml": contracts(uniqueName("plan-value")) });
    await assert.rejects(capture(planCommand, dir, ["--registry", "http://127.0.0.1:1"]), (e: unknown) => isErrorCode(e, "registry-unreachable"));
  });
});
