/**
 * The Avro format adapter, on avsc. Values are avsc's: records as objects
 * (decoded ones are instances of avsc's generated record classes), longs as
 * JS numbers, bytes and fixed as Buffers, enums as strings, unions unwrapped
 * unless ambiguous (avsc `wrapUnions: "auto"`), where they are
 * `{branchName: value}` objects.
 */
import type { Contract } from "../../contract/model.js";
import { hasAnyTag } from "../tags.js";
import type { CompileSchemaOptions, CompiledSchema, FieldInfo, FieldWalker, FormatAdapter } from "../types.js";
import { avroCheckEncodes, avroDecode, avroDecodeResolved, avroEncode, avroProblems } from "./codec.js";
import type { AvroType } from "./avsc.js";
import { avroFields } from "./fields.js";
import { compileAvroFromJson } from "./from-json.js";
import { type AvroJsonForm, avroToJson, avroToRedactedJson } from "./json.js";
import { parseAvro } from "./parse.js";
import { avroShapes } from "./shape.js";
import { compileAvroWalker } from "./walker.js";
import { compileWellFormed } from "./well-formed.js";

export type { AvroJsonForm } from "./json.js";

export interface AvroFormatOptions {
  /**
   * The JSON form of values (toJson/fromJson): "avro" (default) is Avro's JSON
   * encoding as the Java client produces it; "plain" unwraps unions and writes
   * bytes as base64.
   */
  json?: AvroJsonForm;
}

export function createAvroFormat(options: AvroFormatOptions = {}): FormatAdapter {
  const form: AvroJsonForm = options.json ?? "avro";
  return {
    type: "AVRO",
    compile: (contract, compileOptions) => compileAvro(contract, compileOptions, form),
  };
}

export const avroFormat: FormatAdapter = createAvroFormat();

function compileAvro(contract: Contract, options: CompileSchemaOptions | undefined, form: AvroJsonForm): CompiledSchema {
  const parsed = parseAvro(contract, options?.references);
  const root = parsed.root;
  const fields = avroFields(parsed, contract.metadata);
  const shapes = avroShapes(parsed);
  const walkers = new Map<string, FieldWalker>();

  let wellFormed: ((value: unknown) => boolean) | undefined;
  const resolvers = new WeakMap<CompiledSchema, (payload: Uint8Array) => unknown>();
  const compiled: CompiledSchema = {
    type: "AVRO",
    name: root.name,
    fields: fields.list,
    celShape: shapes.root,
    coerce: (value) => value,
    validate: (value) => avroProblems(root, value),
    encode: (value, headroom) => avroEncode(root, value, headroom),
    checkEncodes(value) {
      avroCheckEncodes(root, value, (wellFormed ??= compileWellFormed(root)));
    },
    decode: (payload, start) => avroDecode(root, payload, start),
    decodeFrom(payload, writer) {
      let decode = resolvers.get(writer);
      if (!decode) {
        const writerType = avroTypes.get(writer)?.root;
        if (!writerType) throw new TypeError("decodeFrom needs an Avro writer schema");
        decode = (p) => avroDecodeResolved(root, writerType, p);
        resolvers.set(writer, decode);
      }
      return decode(payload);
    },
    fieldWalker(tags) {
      const key = tags && tags.size > 0 ? [...tags].sort().join("\u0000") : "";
      let walker = walkers.get(key);
      if (!walker) {
        walker = compileAvroWalker(parsed, fields, shapes, tags);
        walkers.set(key, walker);
      }
      return walker;
    },
    ...jsonForm(root, fields.list, form),
  };
  avroTypes.set(compiled, { root, fields: fields.list });
  return compiled;
}

/** What depends on the JSON form: the conversions to and from it, and redaction in it. */
function jsonForm(root: AvroType, fields: readonly FieldInfo[], form: AvroJsonForm): Pick<CompiledSchema, "jsonRedactor" | "toJson" | "fromJson"> {
  return {
    jsonRedactor(tags) {
      const tagged = new Set<string>();
      for (const f of fields) if (hasAnyTag(f.tags, tags)) tagged.add(f.fullName);
      if (tagged.size === 0) return undefined;
      return (value, replace) => avroToRedactedJson(root, value, form, { fields: tagged, replace });
    },
    toJson: (value) => avroToJson(root, value, form),
    fromJson: compileAvroFromJson(root, form),
  };
}

/**
 * The same compiled Avro schema with another JSON form: values stay the same
 * avsc records (one record class per type, so the engine's code, compiled for
 * them, stays monomorphic), only toJson, fromJson and the redactor change.
 * `kontract check` reads and writes the plain form; rules see Avro's.
 */
export function withJsonForm(schema: CompiledSchema, form: AvroJsonForm): CompiledSchema {
  const avro = avroTypes.get(schema);
  if (!avro) throw new TypeError("withJsonForm needs a compiled Avro schema");
  const other: CompiledSchema = { ...schema, ...jsonForm(avro.root, avro.fields, form) };
  avroTypes.set(other, avro);
  return other;
}

/** The avsc type (and fields) behind each compiled schema, for schema resolution between versions and other JSON forms. */
const avroTypes = new WeakMap<CompiledSchema, { readonly root: AvroType; readonly fields: readonly FieldInfo[] }>();
