import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, isMessage, toBinary, type Message } from "@bufbuild/protobuf";
import { SerializationError, isErrorCode } from "../../../src/errors.js";
import { compileProtobuf, protobufFormat } from "../../../src/format/protobuf/index.js";

const SCHEMA = `syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
import "google/protobuf/struct.proto";

message Order {
  string id = 1;
  int32 qty = 2;
  int64 total_cents = 3;
  uint32 flags = 4;
  bytes blob = 5;
  repeated Line lines = 6;
  map<string, int32> counts = 7;
  Status status = 8;
  oneof payment { string card = 9; Voucher voucher = 10; }
  google.protobuf.Timestamp at = 11;
  google.protobuf.StringValue note = 12;
  google.protobuf.Struct extra = 13;
  optional double discount = 14;

  message Line {
    string sku = 1;
    message Detail { string text = 1; }
  }
  enum Status { NEW = 0; PAID = 1; }
}
message Voucher { string code = 1; }
message Refund { string order_id = 1; }`;

const compile = () => compileProtobuf({ schema: SCHEMA, schemaType: "PROTOBUF" });

function sample(): Record<string, unknown> {
  return {
    id: "o-1",
    qty: 2,
    totalCents: 1999n,
    flags: 4294967295,
    blob: Uint8Array.of(1, 2, 3),
    lines: [{ sku: "a" }, { sku: "b" }],
    counts: { a: 1 },
    status: 1,
    payment: { case: "voucher", value: { code: "V10" } },
    at: { seconds: 1700000000n, nanos: 5 },
    note: "gift",
    extra: { source: "web", n: 1 },
  };
}

describe("compiled Protobuf schema: messages and message indexes", () => {
  it("uses the first message of the file by default", () => {
    const s = compile();
    assert.equal(s.type, "PROTOBUF");
    assert.equal(s.name, "shop.Order");
    assert.deepEqual(s.messageIndexes, [0]);
    // The interpreter gets the message itself; the fast path reads the fields CEL reads natively.
    assert.equal(s.celShape.kind, "native");
    const message = s.celShape.kind === "native" ? s.celShape.message : undefined;
    assert.equal(message?.name, "shop.Order");
    assert.deepEqual([...message!.fields.keys()].sort(), ["blob", "card", "counts", "flags", "discount", "id", "lines", "qty", "status", "total_cents", "voucher"].sort());
  });

  it("uses options.messageName, full or relative to the package", () => {
    assert.equal(compileProtobuf({ schema: SCHEMA, schemaType: "PROTOBUF" }, { messageName: "shop.Refund" }).name, "shop.Refund");
    assert.equal(compileProtobuf({ schema: SCHEMA, schemaType: "PROTOBUF" }, { messageName: "Order.Line" }).name, "shop.Order.Line");
  });

  it("computes Confluent message indexes: top-level index, then nested indexes", () => {
    const s = compile();
    assert.deepEqual(s.forName("shop.Voucher").messageIndexes, [1]);
    assert.deepEqual(s.forName("shop.Refund").messageIndexes, [2]);
    assert.deepEqual(s.forName("shop.Order.Line").messageIndexes, [0, 0]);
    assert.deepEqual(s.forName(".shop.Order.Line.Detail").messageIndexes, [0, 0, 0]);
  });

  it("resolves message indexes back to the message, cached per file", () => {
    const s = compile();
    assert.equal(s.forIndexes([2]).name, "shop.Refund");
    assert.equal(s.forIndexes([0, 0, 0]).name, "shop.Order.Line.Detail");
    assert.equal(s.forIndexes([0]), s);
    assert.equal(s.forIndexes([0, 0]), s.forName("shop.Order.Line"));
  });

  it("throws SerializationError for indexes or names that name no message of the file", () => {
    const s = compile();
    for (const bad of [[3], [0, 5], [1, 0], []]) {
      assert.throws(() => s.forIndexes(bad), (e: unknown) => e instanceof SerializationError && e.code === "wire-format");
    }
    assert.throws(() => s.forName("shop.Nope"), SerializationError);
    // a message of an imported file is not a message of this schema
    assert.throws(() => s.forName("google.protobuf.Timestamp"), SerializationError);
  });

  it("names bad message indexes in a short error however many there are (450k indexes, 1.35 MB of text before)", () => {
    const s = compile();
    const indexes = new Array<number>(450_000).fill(1);
    assert.throws(
      () => s.forIndexes(indexes),
      (e: unknown) => {
        assert.ok(isErrorCode(e, "wire-format"));
        const message = (e as Error).message;
        assert.ok(message.length < 400, `${message.length} chars`);
        assert.match(message, /message indexes \[1, 1, 1, .*…\] \(450000 indexes\) name no message/);
        return true;
      },
    );
  });

  it("exposes the registry with every file the schema uses, for the CEL runtime", () => {
    const s = compile();
    assert.ok(s.registry.getMessage("google.protobuf.Timestamp"));
    assert.ok(s.registry.getFile("google/protobuf/struct.proto"));
    assert.equal(s.registry.getMessage("shop.Order"), s.desc);
  });

  it("is what protobufFormat.compile returns", () => {
    const s = protobufFormat.compile({ schema: SCHEMA, schemaType: "PROTOBUF" });
    assert.equal(protobufFormat.type, "PROTOBUF");
    assert.equal(s.name, "shop.Order");
    assert.ok("registry" in s);
  });
});

describe("compiled Protobuf schema: encode and decode", () => {
  it("encodes a plain init object and decodes it back to a protobuf-es message", () => {
    const s = compile();
    const bytes = s.encode(sample() as never);
    const back = s.decode(bytes) as Message & Record<string, unknown>;
    assert.ok(isMessage(back, s.desc));
    assert.equal(back.id, "o-1");
    assert.equal(back.totalCents, 1999n);
    assert.equal(back.note, "gift");
    assert.deepEqual(back.extra, { source: "web", n: 1 });
    assert.deepEqual((back.payment as { case: string }).case, "voucher");
  });

  it("encodes a message exactly as protobuf-es toBinary does", () => {
    const s = compile();
    const message = s.coerce(sample());
    assert.deepEqual(s.encode(message), toBinary(s.desc, message));
  });

  it("rejects values that do not conform, with SerializationError message-invalid", () => {
    const s = compile();
    assert.throws(
      () => s.encode({ id: 5 } as never),
      (e: unknown) => e instanceof SerializationError && e.code === "message-invalid" && /id: expected a string/.test(e.message),
    );
    assert.throws(() => s.encode(s.forName("shop.Refund").coerce({})), (e: unknown) => isErrorCode(e, "message-invalid"));
  });

  it("rejects malformed bytes with SerializationError wire-format", () => {
    const s = compile();
    for (const bytes of [Uint8Array.of(0x0a, 0x05, 0x61), Uint8Array.of(0x10, 0xff), Uint8Array.of(0x07)]) {
      assert.throws(
        () => s.decode(bytes),
        (e: unknown) => e instanceof SerializationError && e.code === "wire-format" && /shop\.Order/.test(e.message),
      );
    }
  });
});

describe("compiled Protobuf schema: validate", () => {
  it("accepts conforming init objects and messages", () => {
    const s = compile();
    assert.equal(s.validate(sample()), undefined);
    assert.equal(s.validate(s.coerce(sample())), undefined);
    assert.equal(s.validate({}), undefined);
    assert.equal(s.validate(create(s.desc)), undefined);
  });

  it("reports unknown fields and wrong JS types, with paths", () => {
    const s = compile();
    const problems = s.validate({
      id: 1,
      nope: true,
      lines: [{ sku: "a" }, { sku: 2 }],
      counts: { a: "x" },
      blob: "AQID",
      payment: { case: "voucher", value: { code: 5 } },
      note: 3,
      extra: { fn: () => 1 },
    });
    assert.deepEqual(
      problems?.map((p) => p.path),
      ["nope", "id", "blob", "lines[1].sku", 'counts["a"]', "voucher.code", "note", "extra"],
    );
  });

  it("checks integer ranges per scalar type", () => {
    const s = compile();
    const paths = (v: Record<string, unknown>) => s.validate(v)?.map((p) => p.path);
    assert.deepEqual(paths({ qty: 2 ** 31 }), ["qty"]);
    assert.deepEqual(paths({ qty: 1.5 }), ["qty"]);
    assert.deepEqual(paths({ flags: -1 }), ["flags"]);
    assert.deepEqual(paths({ totalCents: 2n ** 63n }), ["total_cents"]);
    assert.equal(s.validate({ totalCents: "123" }), undefined, "decimal strings are accepted for 64-bit fields, as protobuf-es does");
    assert.equal(s.validate({ totalCents: 123 }), undefined);
  });

  it("checks the message type name and oneof cases", () => {
    const s = compile();
    assert.match(s.validate(s.forName("shop.Refund").coerce({}))![0]!.message, /expected a shop\.Order message, got shop\.Refund/);
    assert.deepEqual(s.validate({ payment: { case: "cash", value: 1 } })?.map((p) => p.path), ["payment"]);
    assert.equal(s.validate({ payment: { case: undefined } }), undefined);
    assert.deepEqual(s.validate("nope")?.map((p) => p.path), [""]);
  });

  it("describes a oneof case or type name that is not a string, even one that cannot become a string (found by test/fuzz)", () => {
    const s = compile();
    const unprintable = { toString: 1, valueOf: "x" };
    assert.match(s.validate({ payment: { case: unprintable, value: 1 } })![0]!.message, /oneof payment has no case: got an object/);
    assert.match(s.validate({ $typeName: unprintable })![0]!.message, /expected a shop\.Order message, got an object/);
    assert.throws(() => s.coerce({ $typeName: unprintable }), (e: unknown) => isErrorCode(e, "message-invalid") && /got an object/.test((e as Error).message));
    // A string that is no type name is not repeated: it is the caller's data, of any length.
    const long = "x".repeat(70_000);
    assert.match(s.validate({ $typeName: long })![0]!.message, /got a string \(70000 chars\)$/);
    assert.match(s.validate({ payment: { case: `${long} y`, value: 1 } })![0]!.message, /got a string \(70002 chars\)$/);
  });

  it("refuses strings with a lone surrogate, which protobuf-es would write as U+FFFD (found by test/fuzz)", () => {
    const s = compile();
    assert.deepEqual(s.validate({ id: "a\ud800" })?.map((p) => `${p.path}: ${p.message}`), ["id: a string holds a lone surrogate (not well-formed UTF-16), which UTF-8 cannot carry"]);
    assert.throws(() => s.encode(s.coerce({ id: "\udc00" })), (e: unknown) => isErrorCode(e, "message-invalid"));
    assert.equal(s.validate({ counts: { "k\ud800": 1 } })?.length, 1, "map keys too");
    assert.equal(s.validate({ id: "😀" }), undefined);
  });

  it("a value nested deeper than the stack is message-invalid, not a RangeError (found by test/fuzz)", () => {
    const s = compileProtobuf({ schema: `syntax = "proto3"; message Node { string name = 1; Node child = 2; }`, schemaType: "PROTOBUF" });
    let deep: Record<string, unknown> = { name: "x" };
    for (let i = 0; i < 100_000; i++) deep = { name: "x", child: deep };
    assert.throws(() => s.coerce(deep), (e: unknown) => isErrorCode(e, "message-invalid") && /nested too deeply/.test((e as Error).message));
    assert.match(s.validate(deep)![0]!.message, /nested too deeply/);
    assert.throws(() => s.encode(deep as never), (e: unknown) => isErrorCode(e, "message-invalid"));
  });

  it("checks closed (proto2) enums against their declared values", () => {
    const s = compileProtobuf({ schema: `syntax = "proto2"; message M { optional E e = 1; } enum E { A = 0; B = 1; }`, schemaType: "PROTOBUF" });
    assert.equal(s.validate({ e: 1 }), undefined);
    assert.deepEqual(s.validate({ e: 5 })?.map((p) => p.path), ["e"]);
    // proto3 enums are open
    assert.equal(compile().validate({ status: 5 }), undefined);
  });
});

describe("compiled Protobuf schema: coerce and JSON", () => {
  it("coerce creates a message from an init object and passes messages through", () => {
    const s = compile();
    const message = s.coerce({ id: "x" });
    assert.ok(isMessage(message, s.desc));
    assert.equal(s.coerce(message), message);
    assert.throws(() => s.coerce(s.forName("shop.Refund").coerce({})), SerializationError);
    assert.throws(() => s.coerce(42), SerializationError);
  });

  it("toJson prints protobuf JSON with fields at their defaults, like Java's includingDefaultValueFields", () => {
    const s = compile();
    const json = s.toJson(s.coerce({ id: "o-1", totalCents: 5n })) as Record<string, unknown>;
    assert.equal(json.id, "o-1");
    assert.equal(json.totalCents, "5");
    assert.equal(json.qty, 0);
    assert.deepEqual(json.lines, []);
    assert.equal(json.status, "NEW");
    assert.equal("discount" in json, false, "unset fields with explicit presence stay absent");
  });

  it("fromJson reads protobuf JSON back, and rejects JSON that does not fit", () => {
    const s = compile();
    const message = s.coerce(sample());
    const back = s.fromJson(JSON.parse(JSON.stringify(s.toJson(message))));
    assert.deepEqual(s.encode(back), s.encode(message));
    assert.throws(() => s.fromJson({ nope: 1 }), (e: unknown) => isErrorCode(e, "message-invalid"));
    assert.throws(() => s.fromJson({ qty: "many" }), (e: unknown) => isErrorCode(e, "message-invalid"));
  });
});
