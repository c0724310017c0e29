/**
 * withGetters (src/util/getters.ts): the getters read through, and the object keeps V8's fast
 * properties, which a literal declaring a getter does not (why the helper exists).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { createEngine } from "../../src/engine/index.js";
import { keyRing } from "../../src/engine/stateful/keyring.js";
import { FORMATS } from "../../src/format/index.js";
import { withGetters } from "../../src/util/getters.js";

setFlagsFromString("--allow-natives-syntax");
const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (o: object) => boolean;

interface Counter {
  add(n: number): void;
  readonly total: number;
}

test("getters defined on the finished object read the live value and keep its properties fast", () => {
  let total = 0;
  const counter = withGetters<Counter, "total">({ add: (n) => void (total += n) }, { total: () => total });
  counter.add(2);
  counter.add(3);
  assert.equal(counter.total, 5);
  assert.deepEqual(Object.keys(counter), ["add", "total"], "enumerable, as a literal's getter");
  assert.equal(hasFastProperties(counter), true);
  const literal = { add: (n: number) => void (total += n), get total() { return total; } };
  assert.equal(hasFastProperties(literal), false, "V8 keeps a literal with a getter in dictionary mode");
});

test("the stateful key ring, read per record, has fast properties", () => {
  assert.equal(hasFastProperties(keyRing()), true);
});

test("a compiled contract plan and its phases, read per message, have fast properties", () => {
  const schema = FORMATS.AVRO.compile({ schema: JSON.stringify({ type: "record", name: "R", fields: [{ name: "a", type: "int" }] }), schemaType: "AVRO" });
  const plan = createEngine().compile("s-value", { schema: "", schemaType: "AVRO", ruleSet: { domainRules: [{ name: "r", kind: "CONDITION", mode: "WRITE", type: "CEL", expr: "message.a > 0" }] } }, schema);
  assert.equal(hasFastProperties(plan), true);
  assert.equal(hasFastProperties(plan.write), true);
  assert.equal(plan.write.empty, false);
  assert.deepEqual(plan.compileErrors, []);
});
