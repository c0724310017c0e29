/**
 * Migrations across versions (Java/JS getMigrations): the newer version of each
 * edge owns both directions; DOWNGRADE runs in reverse.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Contract, Rule } from "../../src/contract/model.js";
import { createEngine, planMigration, runMigration, type PassedOutcome } from "../../src/engine/index.js";
import { jsonSchemaFormat } from "../../src/format/json-schema/index.js";
import { MC } from "../helpers/contracts.js";

const schema = (props: Record<string, string>) =>
  JSON.stringify({ type: "object", properties: Object.fromEntries(Object.entries(props).map(([k, t]) => [k, { type: t }])), required: Object.keys(props) });

const engine = createEngine();
function version(version: number, props: Record<string, string>, migrationRules: Rule[] = []) {
  const c: Contract = { schema: schema(props), schemaType: "JSON", ruleSet: { migrationRules } };
  return { version, plan: engine.compile("orders-value", c, jsonSchemaFormat.compile(c)) };
}

const v1 = version(1, { id: "string", amount: "number" });
const v2 = version(2, { id: "string", total: "number" }, [
  { name: "amountToTotal", kind: "TRANSFORM", mode: "UPGRADE", type: "JSONATA", expr: "$merge([$sift($, function($v, $k) {$k != 'amount'}), {'total': amount}])" },
  { name: "totalToAmount", kind: "TRANSFORM", mode: "DOWNGRADE", type: "JSONATA", expr: "$merge([$sift($, function($v, $k) {$k != 'total'}), {'amount': total}])" },
]);
const v3 = version(3, { id: "string", total: "number" }); // no rules: same shape

test("UPGRADE runs the newer version's rules and yields a message of the reader schema", async () => {
  const m = planMigration(v1, v2, [v1, v2]);
  assert.equal(m.direction, "UPGRADE");
  assert.equal(m.phases.length, 1);
  const o = (await runMigration(m, { id: "a", amount: 5 }, MC)) as PassedOutcome;
  assert.deepEqual(o.value, { id: "a", total: 5 });
});

test("DOWNGRADE runs the newer version's DOWNGRADE rules back to the older schema", async () => {
  const m = planMigration(v2, v1, [v2, v1]);
  assert.equal(m.direction, "DOWNGRADE");
  const o = (await runMigration(m, { id: "a", total: 7 }, MC)) as PassedOutcome;
  assert.deepEqual(o.value, { id: "a", amount: 7 });
});

test("versions without migration rules add no step; chains walk every edge", async () => {
  const m = planMigration(v1, v3, [v3, v1, v2]);
  assert.equal(m.phases.length, 1);
  const o = (await runMigration(m, { id: "a", amount: 1 }, MC)) as PassedOutcome;
  assert.deepEqual(o.value, { id: "a", total: 1 });
  assert.equal(planMigration(v2, v2, [v2]).direction, "NONE");
});

test("a migration whose result does not fit the reader schema is a SerializationError", async () => {
  const broken = version(2, { id: "string", total: "number" }, [{ name: "drop", kind: "TRANSFORM", mode: "UPGRADE", type: "JSONATA", expr: "{'id': id}" }]);
  const m = planMigration(v1, broken, [v1, broken]);
  await assert.rejects(async () => runMigration(m, { id: "a", amount: 1 }, MC), (e: Error) => e.name === "SerializationError" && /reader schema/.test(e.message));
});
