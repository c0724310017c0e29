/**
 * checkEncodes (the verdict without the bytes, for `kontract check`) against
 * encode on generated values, valid and not, some with lone surrogates in
 * strings and map keys (the writer's one refusal that avsc's isValid misses):
 * each refuses exactly the values the other refuses, with the same error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { avroFormat } from "../../../src/format/avro/index.js";
import { parseAvro } from "../../../src/format/avro/parse.js";
import type { CompiledSchema } from "../../../src/format/types.js";
import { rng, type Rng } from "../../fuzz/property.js";
import { SCHEMAS, jsonFor } from "./generated-json.js";

const LONE = ["\ud800", "a\udc00", "x\ud83d", "\udfff\ud800"];

/** Replaces, with probability p, strings and object keys (in place, at any depth) by ones holding a lone surrogate. */
function withLoneSurrogates(value: unknown, r: Rng, p: number, depth = 0): unknown {
  if (typeof value === "string") return r.chance(p) ? value + r.pick(LONE) : value;
  if (value === null || typeof value !== "object" || value instanceof Uint8Array || depth > 20) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = withLoneSurrogates(value[i], r, p, depth + 1);
    return value;
  }
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    const v = withLoneSurrogates(o[key], r, p, depth + 1);
    if (r.chance(p / 2) && Object.getPrototypeOf(o) === Object.prototype) {
      delete o[key];
      o[key + r.pick(LONE)] = v;
    } else o[key] = v;
  }
  return value;
}

function verdict(run: () => unknown): string {
  try {
    run();
    return "ok";
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
}

for (const [name, schema] of SCHEMAS) {
  test(`checkEncodes refuses what encode refuses, with its error, on 3,000 generated ${name} values`, () => {
    const compiled = avroFormat.compile({ schema: JSON.stringify(schema), schemaType: "AVRO" }) as CompiledSchema;
    const type = parseAvro({ schema: JSON.stringify(schema) }, undefined).root;
    const r = rng(0xc0de + name.length * 17);
    const counts = { ok: 0, invalid: 0, surrogate: 0 };
    for (let i = 0; i < 3000; i++) {
      const json = jsonFor(type, "avro", r, i % 3 === 0 ? 0 : 0.03);
      let value: unknown;
      try {
        value = compiled.fromJson(json);
      } catch {
        value = json; // not the schema's: both must refuse it alike
      }
      value = withLoneSurrogates(value, r, i % 2 === 0 ? 0 : 0.05);
      const encoded = verdict(() => compiled.encode(value));
      const checked = verdict(() => compiled.checkEncodes!(value));
      assert.equal(checked, encoded, `value ${i}`);
      if (encoded === "ok") counts.ok++;
      else if (encoded.includes("lone surrogate")) counts.surrogate++;
      else counts.invalid++;
    }
    // All three verdicts were exercised.
    assert.ok(counts.ok > 300 && counts.invalid > 100 && counts.surrogate > 50, JSON.stringify(counts));
  });
}
