/**
 * Micro-benchmark of kontract's CEL layer on typical validation rules
 * (docs/cel.md, "Performance"): plain-object input (what @bufbuild/cel gets from the
 * Confluent JS client: it converts the object on every access) against
 * kontract's lazy views, and the native fast path (docs/cel.md, "Native fast path").
 * Prints evaluations/s and the views/plain and native/view ratios.
 *
 *   node --import tsx bench/cel.bench.ts [--time=250] [--runs=5]
 */
import { create } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { celView, createCelRuntime, isCelFailure } from "../src/cel/index.js";
import type { CelShape } from "../src/cel/index.js";

const arg = (name: string, dflt: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt);
const SLICE_MS = arg("time", 250);
const RUNS = arg("runs", 5);

const RULES: Record<string, string> = {
  cmp: "message.age >= 18 && message.score > 50.0 && message.active",
  size: "size(message.name) > 0 && size(message.address.city) <= 64",
  regex: "message.email.matches('^[^@]+@[^@]+$')",
  exists: "message.items.exists(i, i.qty > 3 && i.price < 10.0)",
  ts: "message.createdAt > timestamp('2024-01-01T00:00:00Z')",
};

// A decoded Avro-like message: ints as numbers, a timestamp-millis long.
const native = {
  id: 42,
  name: "Alice Example",
  email: "alice@example.com",
  age: 34,
  score: 87.5,
  active: true,
  createdAt: Date.UTC(2024, 5, 1, 12, 0, 0),
  tags: ["a", "b"],
  address: { street: "1 Main St", city: "Springfield", zip: "12345" },
  items: [
    { sku: "A-1", qty: 1, price: 19.99 },
    { sku: "B-2", qty: 5, price: 4.5 },
    { sku: "C-3", qty: 2, price: 12.0 },
  ],
};

const s = (kind: "string" | "double" | "bool"): CelShape => ({ kind });
const shape: CelShape = {
  kind: "record",
  name: "Order",
  fields: new Map<string, CelShape>([
    ["id", { kind: "int" }],
    ["name", s("string")],
    ["email", s("string")],
    ["age", { kind: "int" }],
    ["score", s("double")],
    ["active", s("bool")],
    ["createdAt", { kind: "timestamp", native: "millis" }],
    ["tags", { kind: "list", element: s("string") }],
    [
      "address",
      { kind: "record", name: "Address", fields: new Map(["street", "city", "zip"].map((f) => [f, s("string")])) },
    ],
    [
      "items",
      {
        kind: "list",
        element: {
          kind: "record",
          name: "Item",
          fields: new Map<string, CelShape>([
            ["sku", s("string")],
            ["qty", { kind: "int" }],
            ["price", s("double")],
          ]),
        },
      },
    ],
  ]),
};

/** What a plain-object engine must build per message: ints as bigint, timestamps as messages. */
function toPlainCel(m: typeof native): Record<string, unknown> {
  return {
    ...m,
    id: BigInt(m.id),
    age: BigInt(m.age),
    createdAt: create(TimestampSchema, {
      seconds: BigInt(Math.floor(m.createdAt / 1000)),
      nanos: (m.createdAt % 1000) * 1e6,
    }),
    items: m.items.map((i) => ({ ...i, qty: BigInt(i.qty) })),
  };
}

function measure(fn: () => unknown): number {
  const deadline = performance.now() + 300;
  while (performance.now() < deadline) fn();
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const start = performance.now();
    const end = start + SLICE_MS;
    let now = start;
    while (now < end) {
      for (let i = 0; i < 200; i++) fn();
      n += 200;
      now = performance.now();
    }
    rates.push(n / ((now - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}

const runtime = createCelRuntime();
const preConverted = toPlainCel(native);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(11);

console.log(`median of ${RUNS} x ${SLICE_MS} ms; evaluations/s (higher is better)`);
console.log(
  `${"rule".padEnd(7)} ${"plain".padStart(11)} ${"plain+conv".padStart(11)} ${"view".padStart(11)} ${"view reused".padStart(11)} ${"view/plain".padStart(10)} ${"native".padStart(11)} ${"native/view".padStart(11)}`,
);
for (const [name, expr] of Object.entries(RULES)) {
  const program = runtime.compile(expr, ["message"]);
  const reusedView = celView(native, shape);
  for (const input of [{ message: preConverted }, { message: celView(native, shape) }]) {
    const r = program.run(input);
    if (r !== true) throw new Error(`${name} gave ${isCelFailure(r) ? r.message : String(r)}`);
  }
  // plain: the input is already CEL-ready; @bufbuild/cel wraps it on every access.
  const plain = measure(() => program.run({ message: preConverted }));
  // plain+conv: also pays the per-message conversion a plain-object engine needs.
  const plainConv = measure(() => program.run({ message: toPlainCel(native) }));
  // view: a view per message (what the engine does), converting only fields read.
  const view = measure(() => program.run({ message: celView(native, shape) }));
  // view reused: one view shared by several rules on the same message.
  const reused = measure(() => program.run({ message: reusedView }));
  // native: the fast path on the native message (falls back to views outside its subset: "ts").
  const typed = program.typed({ message: shape });
  if (typed.run({ message: native }) !== true) throw new Error(`${name}: native path disagrees`);
  const fast = measure(() => typed.run({ message: native }));
  console.log(
    `${name.padEnd(7)} ${fmt(plain)} ${fmt(plainConv)} ${fmt(view)} ${fmt(reused)} ${(view / plain).toFixed(2).padStart(9)}x ${fmt(fast)}${typed.native ? " " : "*"} ${(fast / view).toFixed(2).padStart(10)}x`,
  );
}
console.log("* not on the fast path (timestamps run on the interpreter)");
