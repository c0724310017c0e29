/**
 * The compiled fromJson (from-json.ts) against the generic one (json.ts) on
 * generated JSON, valid and not, in both JSON forms: the compiled converter
 * fits exactly the values the generic one accepts, gives equal values (same
 * record classes, defaults filled in) that avsc finds valid, and the public
 * fromJson still throws the generic error, path included.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAvro } from "../../../src/format/avro/parse.js";
import { NO_FIT, compileAvroFromJson, compileFitting } from "../../../src/format/avro/from-json.js";
import { avroFromJson, type AvroJsonForm } from "../../../src/format/avro/json.js";
import type { AvroType } from "../../../src/format/avro/avsc.js";
import { rng } from "../../fuzz/property.js";
import { SCHEMAS, jsonFor } from "./generated-json.js";

function generic(type: AvroType, json: unknown, form: AvroJsonForm): { value: unknown } | { error: string } {
  try {
    return { value: avroFromJson(type, json, form) };
  } catch (e) {
    return { error: String(e) };
  }
}

for (const [name, schema] of SCHEMAS) {
  for (const form of ["plain", "avro"] as const) {
    test(`compiled fromJson agrees with the generic one on 3,000 generated ${name} messages (${form} form)`, () => {
      const type = parseAvro({ schema: JSON.stringify(schema) }, undefined).root;
      const fitting = compileFitting(type, form);
      const fromJson = compileAvroFromJson(type, form);
      const r = rng(0x5eed + name.length * 31 + (form === "plain" ? 1 : 2));
      let fits = 0;
      for (let i = 0; i < 3000; i++) {
        const json = jsonFor(type, form, r, i % 3 === 0 ? 0 : 0.02);
        const expected = generic(type, json, form);
        const got = fitting(json);
        const at = `message ${i}: ${JSON.stringify(json)}`;
        if ("error" in expected) {
          assert.equal(got, NO_FIT, `${at}\nthe generic conversion throws ${expected.error}`);
          assert.throws(() => fromJson(json), (e: unknown) => String(e) === expected.error, at);
        } else {
          fits++;
          assert.notEqual(got, NO_FIT, at);
          assert.deepStrictEqual(got, expected.value, at);
          assert.equal(type.isValid(got), true, at);
          assert.deepStrictEqual(fromJson(json), expected.value, at);
        }
      }
      // Both kinds were exercised.
      assert.ok(fits > 1000 && fits < 3000, `${fits} of 3000 fit`);
    });
  }
}
