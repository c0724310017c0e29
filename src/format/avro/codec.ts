/**
 * Validation and the Avro binary payload. A top-level `bytes` schema is
 * written raw, without the Avro length prefix, as both Confluent serializers
 * do for byte arrays.
 */
import { SerializationError } from "../../errors.js";
import { MAX_INPUT_FRAGMENT, capText } from "../../util/cap.js";
import { LONE_SURROGATE } from "../../util/unicode.js";
import { withHeadroom } from "../headroom.js";
import type { SchemaProblem } from "../types.js";
import { type AvroType, isUnionType } from "./avsc.js";
import { readAvro, writeAvro } from "./tap.js";
import { describeValue, renderValuePath } from "./values.js";

export function avroProblems(type: AvroType, value: unknown): SchemaProblem[] | undefined {
  let problems: SchemaProblem[] | undefined;
  try {
    type.isValid(value, {
      errorHook: (path: string[], val: unknown, t: AvroType) => {
        (problems ??= []).push({ path: renderValuePath(path, value), message: `expected ${expected(t)}, got ${describeValue(val)}` });
      },
    });
  } catch (e) {
    return [uncheckable(e)];
  }
  return problems;
}

/**
 * avsc's checks convert some values before comparing (`val | 0` for an int):
 * an object without a primitive form (null prototype, a toString that is not
 * a function) makes them throw a TypeError; and they recurse, so a value
 * nested deeper than the stack (a long linked list) throws a RangeError.
 * Such a value is invalid; where it is, the throw does not tell.
 */
function isValidSafely(type: AvroType, value: unknown): boolean {
  try {
    return type.isValid(value);
  } catch {
    return false;
  }
}

/** Without the error's text: V8 quotes values in some TypeErrors, and values may be personal data. */
function uncheckable(e: unknown): SchemaProblem {
  if (e instanceof RangeError) return { path: "", message: "the value is nested too deeply to check" };
  return { path: "", message: "the value holds an object without a primitive form where a primitive is expected" };
}

function expected(t: AvroType): string {
  if (isUnionType(t)) return `one of [${t.types.map((b) => b.branchName ?? b.typeName).join(", ")}]`;
  return t.name ?? t.typeName;
}

export function avroEncode(type: AvroType, value: unknown, headroom = 0): Uint8Array {
  if (type.typeName === "bytes") {
    if (value instanceof Uint8Array) return withHeadroom(value, headroom);
    throw invalid(type, value);
  }
  // Validate first: avsc's writers trust their input, and an invalid value must never encode silently.
  if (!isValidSafely(type, value)) throw invalid(type, value);
  try {
    return writeAvro(type, value, headroom);
  } catch (e) {
    throw unencodable(type, e);
  }
}

/**
 * Throws what avroEncode would throw for `value`, without writing it: the
 * checks before the write, and the writer's one refusal of a valid value (a
 * lone surrogate), found by `wellFormed` (well-formed.ts). Where that walk
 * itself throws (a value nested deeper than the stack), the encode runs, so
 * the verdict is the encoder's.
 */
export function avroCheckEncodes(type: AvroType, value: unknown, wellFormed: (value: unknown) => boolean): void {
  if (type.typeName === "bytes") {
    if (value instanceof Uint8Array) return;
    throw invalid(type, value);
  }
  if (!isValidSafely(type, value)) throw invalid(type, value);
  let ok: boolean;
  try {
    ok = wellFormed(value);
  } catch {
    avroEncode(type, value);
    return;
  }
  if (!ok) throw unencodable(type, new Error(LONE_SURROGATE));
}

function unencodable(type: AvroType, e: unknown): SerializationError {
  return new SerializationError("message-invalid", `value does not encode as ${expected(type)}: ${capText((e as Error).message)}`, { cause: e });
}

function invalid(type: AvroType, value: unknown): SerializationError {
  const first = avroProblems(type, value)?.[0];
  const where = first ? (first.path === "" ? "the root" : first.path) : "the root";
  const why = first?.message ?? `expected ${expected(type)}, got ${describeValue(value)}`;
  return new SerializationError("message-invalid", `value does not match Avro schema ${expected(type)} at ${capText(where, MAX_INPUT_FRAGMENT)}: ${capText(why)}`);
}

export function avroDecode(type: AvroType, payload: Uint8Array, start = 0): unknown {
  const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (type.typeName === "bytes") return Buffer.from(buf.subarray(start));
  try {
    // Rejects truncated input and trailing bytes; avsc's readers reject bad union or enum indexes.
    return readAvro(type, buf, start);
  } catch (e) {
    throw new SerializationError("wire-format", `Avro payload (${buf.length - start} bytes) does not decode as ${expected(type)}: ${capText((e as Error).message)}`, {
      cause: e,
    });
  }
}

/** Decodes with Avro schema resolution from the writer's type to the reader's. */
export function avroDecodeResolved(reader: AvroType, writer: AvroType, payload: Uint8Array): unknown {
  const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  let resolver: unknown;
  try {
    resolver = reader.createResolver(writer);
  } catch (e) {
    throw new SerializationError("message-invalid", `the writer schema ${expected(writer)} cannot be read as ${expected(reader)}: ${(e as Error).message}`, { cause: e });
  }
  try {
    // On kontract's tap, as plain reads are: ints are range-checked (tap.ts).
    return readAvro(resolver as AvroType, buf);
  } catch (e) {
    throw new SerializationError("wire-format", `Avro payload (${buf.length} bytes) does not decode as ${expected(writer)}: ${capText((e as Error).message)}`, { cause: e });
  }
}
