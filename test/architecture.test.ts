/**
 * The folders of src/ are layers. This test reads every import and fails when
 * one points the wrong way, or when I/O or a Kafka client leaks into the pure core.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = join(import.meta.dirname, "../src");

/** What each layer may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  "errors.ts": ["contract"],
  util: [],
  contract: ["errors.ts", "util"],
  cel: ["errors.ts", "util", "contract"],
  format: ["errors.ts", "util", "contract", "cel"],
  engine: ["errors.ts", "util", "contract", "cel", "format"],
  wire: ["errors.ts", "util"],
  registry: ["errors.ts", "util", "contract"],
  /** KMS drivers that reach a KMS over the network (the local one is pure, in engine/encrypt). */
  kms: ["errors.ts", "util", "contract"],
  serde: ["errors.ts", "util", "contract", "cel", "format", "engine", "wire", "registry"],
  kafka: ["errors.ts", "util", "contract", "cel", "format", "engine", "wire", "registry", "serde"],
  lint: ["errors.ts", "util", "contract", "cel", "format", "engine", "wire", "registry", "serde"],
  testing: ["errors.ts", "util", "contract", "cel", "format", "engine", "wire", "registry", "serde"],
  metrics: ["errors.ts", "util", "contract", "engine"],
  diff: ["errors.ts", "util", "contract", "cel", "format", "engine", "wire", "registry", "serde", "lint", "testing"],
  cli: ["errors.ts", "util", "contract", "cel", "format", "engine", "wire", "registry", "serde", "lint", "testing", "diff", "kafka"],
  "index.ts": ["errors.ts", "util", "contract", "cel", "format", "engine", "wire", "registry", "serde", "kms"],
};

/** Layers that do no I/O: no file system, network or Kafka. */
const PURE = ["util", "cel", "format", "engine", "wire", "serde"];
const KAFKA_CLIENTS = /^(kafkajs|@confluentinc\/kafka-javascript|@platformatic\/kafka)(\/.*)?$/;
const IO_MODULES = /^(node:)?(fs|fs\/promises|net|http|https|dgram|child_process|readline)$/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function layerOf(file: string): string {
  const rel = relative(SRC, file).split("/");
  if (rel[0] === "..") return "(outside src)";
  // top-level modules are layers of their own; imports name them with .js
  return rel.length === 1 ? rel[0]!.replace(/\.js$/, ".ts") : rel[0]!;
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/gm), ...text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!);
}

test("every import in src/ points down the layers", () => {
  const wrong: string[] = [];
  for (const file of files(SRC)) {
    const layer = layerOf(file);
    const allowed = ALLOWED[layer];
    assert.ok(allowed, `no layer rule for ${relative(SRC, file)}`);
    for (const spec of imports(file)) {
      if (!spec.startsWith(".")) continue;
      const target = layerOf(resolve(dirname(file), spec));
      // data files outside src (the published JSON Schema, package.json) are fine to read
      if (target === "(outside src)" && spec.endsWith(".json")) continue;
      if (target !== layer && !allowed.includes(target)) wrong.push(`${relative(SRC, file)} imports ${spec} (${layer} -> ${target})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test("the pure core does no I/O, and no module imports a Kafka client but for types", () => {
  const wrong: string[] = [];
  for (const file of files(SRC)) {
    const layer = layerOf(file);
    for (const spec of imports(file)) {
      if (PURE.includes(layer) && (IO_MODULES.test(spec) || KAFKA_CLIENTS.test(spec))) wrong.push(`${relative(SRC, file)} imports ${spec}`);
    }
    // Clients are optional peer dependencies, loaded on demand by src/kafka/clients (loadKafkaClient,
    // requireKafkaClient): a static import would make every user install every client.
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/^\s*(import|export)(\s+type)?\s[^;]*?from\s+["']([^"']+)["']/gm)) {
      if (KAFKA_CLIENTS.test(m[3]!) && !m[2]) wrong.push(`${relative(SRC, file)} imports ${m[3]} (only "import type" is allowed)`);
    }
  }
  assert.deepEqual(wrong, []);
});

test("no console output outside the CLI", () => {
  const wrong = files(SRC)
    .filter((f) => layerOf(f) !== "cli")
    .filter((f) => /\bconsole\.(log|warn|error|info|debug)\(/.test(readFileSync(f, "utf8")))
    .map((f) => relative(SRC, f));
  assert.deepEqual(wrong, []);
});
