import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isErrorCode, isKontractError } from "../../../src/errors.js";
import { ORDER_SCHEMA, compileAvro, orderValue, plain } from "./fixtures.js";

const order = compileAvro(ORDER_SCHEMA);

describe("avro validate", () => {
  it("accepts a conforming value", () => {
    assert.equal(order.validate(orderValue()), undefined);
    assert.equal(order.validate(orderValue({ email: null, shipping: { city: "Lyon", zip: null } })), undefined);
  });

  it("reports every problem with its path", () => {
    const bad = orderValue({
      email: 42,
      address: { city: 7, zip: null },
      items: [
        { sku: "A", qty: 1 },
        { sku: "B", qty: 1.5 },
      ],
      attrs: { "gift wrap": 1 },
      status: "LOST",
    });
    const problems = order.validate(bad) ?? [];
    assert.deepEqual(
      problems.map((p) => p.path),
      ["email", "address.city", "items[1].qty", 'attrs["gift wrap"]', "status"],
    );
    // messages name the type found, never the value (values may be personal data)
    assert.equal(problems[2]!.message, "expected int, got a number");
    assert.equal(problems[4]!.message, "expected com.acme.Status, got a string (4 chars)");
    assert.ok(!problems.some((p) => p.message.includes("LOST")));
  });

  it("reports a missing field", () => {
    const { amount: _, ...rest } = orderValue();
    assert.deepEqual(order.validate(rest)?.map((p) => p.path), ["amount"]);
  });
});

describe("avro encode/decode", () => {
  it("round-trips nested records, arrays, maps, nullables, enums, bytes and longs", () => {
    const value = orderValue({ shipping: { city: "Lyon", zip: null } });
    const decoded = order.decode(order.encode(value)) as Record<string, unknown>;
    assert.deepEqual(plain(decoded), value); // decoded records are avsc record-class instances
    assert.ok(Buffer.isBuffer(decoded.blob));
    assert.equal(decoded.count, 2 ** 40);
  });

  it("each encoding is its own bytes: a later encode does not change an earlier result", () => {
    const schema = compileAvro({ type: "record", name: "T", fields: [{ name: "a", type: "string" }] });
    const first = schema.encode({ a: "first" });
    const copy = Buffer.from(first);
    schema.encode({ a: "second, and longer" });
    assert.deepEqual(Buffer.from(first), copy);
  });

  it("encodes values larger than the reused scratch buffer (64 KiB) whole", () => {
    const schema = compileAvro({ type: "record", name: "T", fields: [{ name: "a", type: "string" }, { name: "b", type: "bytes" }] });
    const value = { a: "x".repeat(100_000), b: Buffer.alloc(300_000, 7) };
    const bytes = schema.encode(value);
    assert.equal(bytes.length, 3 + 100_000 + 3 + 300_000); // zigzag varint lengths take 3 bytes each
    assert.deepEqual(plain(schema.decode(bytes)), plain(value));
    assert.deepEqual(plain(schema.decode(schema.encode({ a: "small", b: Buffer.from([1]) }))), plain({ a: "small", b: Buffer.from([1]) }));
  });

  it("writes the Avro binary encoding", () => {
    const schema = compileAvro({ type: "record", name: "T", fields: [{ name: "a", type: "string" }, { name: "b", type: ["null", "long"] }] });
    // "x" = len 1 (zigzag 02) + 0x78; union branch 1 (02) + zigzag(5) = 0a
    assert.deepEqual([...schema.encode({ a: "x", b: 5 })], [0x02, 0x78, 0x02, 0x0a]);
  });

  it("throws message-invalid naming the first bad path instead of encoding garbage", () => {
    const bad = orderValue({ items: [{ sku: "A", qty: "2" }] });
    assert.throws(
      () => order.encode(bad),
      (e: unknown) => isErrorCode(e, "message-invalid") && /at items\[0\]\.qty: expected int, got a string \(1 chars\)$/.test((e as Error).message),
    );
  });

  it("throws message-invalid, not a TypeError, for values that are not records at all", () => {
    for (const v of [undefined, null, 42, "x", [1]]) {
      assert.throws(() => order.encode(v), (e: unknown) => isErrorCode(e, "message-invalid"));
    }
  });

  it("refuses enum symbols and union branch names that are Object.prototype members, instead of writing the first symbol or throwing a TypeError (found by test/fuzz)", () => {
    for (const status of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      assert.deepEqual(order.validate(orderValue({ status }))?.map((p) => p.path), ["status"], status);
      assert.throws(() => order.encode(orderValue({ status })), (e: unknown) => isErrorCode(e, "message-invalid"), status);
    }
    // An ambiguous union (two non-null branches of object type) is written wrapped: {"<branch>": value}.
    const wrapped = compileAvro({ type: "record", name: "W", fields: [{ name: "w", type: ["null", { type: "record", name: "A", fields: [{ name: "x", type: "int" }] }, { type: "map", values: "int" }] }] });
    assert.deepEqual(plain(wrapped.decode(wrapped.encode({ w: { A: { x: 1 } } }))), { w: { A: { x: 1 } } });
    for (const w of [{ constructor: { x: 1 } }, { toString: { x: 1 } }, JSON.parse('{"__proto__": {"x": 1}}') as unknown]) {
      assert.deepEqual(wrapped.validate({ w })?.map((p) => p.path), ["w"]);
      assert.throws(() => wrapped.encode({ w }), (e: unknown) => isErrorCode(e, "message-invalid"));
    }
  });

  it("throws message-invalid, not a TypeError, for an enum value that cannot become a property key (found by test/fuzz)", () => {
    for (const status of [Object.create(null) as unknown, { toString: 1 }]) {
      assert.throws(() => order.encode(orderValue({ status })), (e: unknown) => isErrorCode(e, "message-invalid"));
      assert.deepEqual(order.validate(orderValue({ status }))?.map((p) => p.path), ["status"]);
    }
  });

  it("throws message-invalid, not a TypeError, when avsc's check itself throws on a value (an int field holding an object without a primitive form; found by test/fuzz)", () => {
    const items = [{ sku: "A", qty: Object.create(null) as unknown }];
    assert.throws(() => order.encode(orderValue({ items })), (e: unknown) => isErrorCode(e, "message-invalid"));
    assert.equal(order.validate(orderValue({ items }))?.length, 1);
  });

  it("says a value is nested too deeply to check when avsc's check overflows the stack (found by test/fuzz)", () => {
    const list = compileAvro({ type: "record", name: "Node", fields: [{ name: "v", type: "int" }, { name: "next", type: ["null", "Node"] }] });
    let deep: unknown = null;
    for (let i = 0; i < 100_000; i++) deep = { v: i, next: deep };
    assert.throws(() => list.encode(deep), (e: unknown) => isErrorCode(e, "message-invalid") && /nested too deeply/.test((e as Error).message));
    assert.match(list.validate(deep)![0]!.message, /nested too deeply/);
  });

  it("refuses strings with a lone surrogate, which UTF-8 cannot carry, instead of writing bytes that read back otherwise (found by test/fuzz)", () => {
    for (const bad of ["\ud800", "a\udc00", "x".repeat(100) + "\ud83d"]) {
      assert.throws(() => order.encode(orderValue({ email: bad })), (e: unknown) => isErrorCode(e, "message-invalid") && /lone surrogate/.test((e as Error).message));
      assert.throws(() => order.encode(orderValue({ attrs: { [bad]: "v" } })), (e: unknown) => isErrorCode(e, "message-invalid"), "map keys too");
    }
    // A surrogate pair is one character and reads back.
    assert.equal((order.decode(order.encode(orderValue({ email: "😀" }))) as { email: string }).email, "😀");
  });

  it("rejects an int whose varint holds more than 32 bits, as Java does, instead of decoding a number no int holds (found by test/fuzz)", () => {
    const int = compileAvro("int");
    assert.equal(int.decode(Uint8Array.from([0xfe, 0xff, 0xff, 0xff, 0x0f])), 2 ** 31 - 1);
    assert.equal(int.decode(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])), -(2 ** 31));
    for (const bytes of [[0x80, 0x80, 0x80, 0x80, 0x20], [0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [0xfe, 0xff, 0xff, 0xff, 0x1f]]) {
      assert.throws(() => int.decode(Uint8Array.from(bytes)), (e: unknown) => isErrorCode(e, "wire-format") && /int/.test((e as Error).message), bytes.join(","));
    }
    // Inside a record too: the order's items[0].qty.
    const good = Buffer.from(order.encode(orderValue({ items: [{ sku: "A", qty: 1 }] })));
    const at = good.indexOf(Buffer.from([2, 0x41, 2])) + 2; // "A" then qty 1 (zigzag 2)
    const bad = Buffer.concat([good.subarray(0, at), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x20]), good.subarray(at + 1)]);
    assert.throws(() => order.decode(bad), (e: unknown) => isErrorCode(e, "wire-format"));
    // And through schema resolution (a reader of another version), int promoted to long or not.
    const writer = compileAvro({ type: "record", name: "V", fields: [{ name: "n", type: "int" }, { name: "m", type: "int" }] });
    const reader = compileAvro({ type: "record", name: "V", fields: [{ name: "n", type: "int" }, { name: "m", type: "long" }, { name: "added", type: "string", default: "d" }] });
    assert.deepEqual(plain(reader.decodeFrom!(writer.encode({ n: 1, m: 2 }), writer)), { n: 1, m: 2, added: "d" });
    for (const bytes of [[0x80, 0x80, 0x80, 0x80, 0x20, 0x02], [0x02, 0x80, 0x80, 0x80, 0x80, 0x20]]) {
      assert.throws(() => reader.decodeFrom!(Uint8Array.from(bytes), writer), (e: unknown) => isErrorCode(e, "wire-format"), bytes.join(","));
    }
  });

  it("rejects truncated payloads", () => {
    const bytes = order.encode(orderValue());
    for (const cut of [0, 1, 5, bytes.length - 1]) {
      assert.throws(
        () => order.decode(bytes.subarray(0, cut)),
        (e: unknown) => isErrorCode(e, "wire-format") && /truncated/.test((e as Error).message),
      );
    }
  });

  it("rejects trailing bytes", () => {
    const bytes = order.encode(orderValue());
    assert.throws(
      () => order.decode(Buffer.concat([bytes, Buffer.from([0])])),
      (e: unknown) => isErrorCode(e, "wire-format") && /trailing/.test((e as Error).message),
    );
  });

  it("rejects bad union and enum indexes", () => {
    const schema = compileAvro({
      type: "record",
      name: "R",
      fields: [
        { name: "u", type: ["null", "string"] },
        { name: "e", type: { type: "enum", name: "E", symbols: ["A"] } },
      ],
    });
    assert.throws(() => schema.decode(Uint8Array.from([0x08, 0x00])), (e: unknown) => isErrorCode(e, "wire-format") && /union index/.test(String(e)));
    assert.throws(() => schema.decode(Uint8Array.from([0x00, 0x04])), (e: unknown) => isErrorCode(e, "wire-format") && /enum index/.test(String(e)));
  });

  it("turns every garbage payload into a conforming value or a wire-format error", () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let n = 0; n < 500; n++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256));
      try {
        const value = order.decode(bytes);
        assert.equal(order.validate(value), undefined);
      } catch (e) {
        assert.ok(isKontractError(e) && e.code === "wire-format", `unexpected ${String(e)}`);
      }
    }
  });

  it("decodes from a Uint8Array view into a larger buffer", () => {
    const bytes = order.encode(orderValue());
    const big = new Uint8Array(bytes.length + 10);
    big.set(bytes, 5);
    assert.deepEqual(plain(order.decode(big.subarray(5, 5 + bytes.length))), orderValue());
  });

  it("writes a top-level bytes schema raw, as the Confluent serializers do", () => {
    const bytes = compileAvro("bytes");
    const raw = Uint8Array.from([1, 2, 3]);
    assert.deepEqual([...bytes.encode(raw)], [1, 2, 3]);
    assert.deepEqual([...(bytes.decode(raw) as Uint8Array)], [1, 2, 3]);
    assert.throws(() => bytes.encode("abc"), (e: unknown) => isErrorCode(e, "message-invalid"));
  });
});

describe("avro encode errors carry little of the input", () => {
  it("a 100 KB map key in a bad value gives an error of at most a few KB, typed", () => {
    const map = compileAvro({ type: "record", name: "R", fields: [{ name: "m", type: { type: "map", values: "int" } }] });
    assert.throws(
      () => map.encode({ m: { ["k".repeat(100_000)]: "x" } }),
      (e: unknown) => {
        assert.ok(isErrorCode(e, "message-invalid"));
        const message = (e as Error).message;
        assert.ok(message.length < 2_500, `${message.length} chars`);
        assert.match(message, /at m\.kkk.*… \(\d+ chars\): /);
        return true;
      },
    );
  });
});

