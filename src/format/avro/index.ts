/**
 * The Avro format adapter, on avsc. Values are avsc's: records as objects
 * (decoded ones are instances of avsc's generated record classes), longs as
 * JS numbers, bytes and fixed as Buffers, enums as strings, unions unwrapped
 * unless ambiguous (avsc `wrapUnions: "auto"`), where they are
 * `{branchName: value}` objects.
 */
import type { Contract } from "../../contract/model.js";
import { hasAnyTag } from "../tags.js";
import type { CompileSchemaOptions, CompiledSchema, FieldWalker, FormatAdapter } from "../types.js";
import { avroDecode, avroDecodeResolved, avroEncode, avroProblems } from "./codec.js";
import type { AvroType } from "./avsc.js";
import { avroFields } from "./fields.js";
import { compileAvroFromJson } from "./from-json.js";
import { type AvroJsonForm, avroToJson, avroToRedactedJson } from "./json.js";
import { parseAvro } from "./parse.js";
import { avroShapes } from "./shape.js";
import { compileAvroWalker } from "./walker.js";

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
  const fromJson = compileAvroFromJson(root, form);

  const resolvers = new WeakMap<CompiledSchema, (payload: Uint8Array) => unknown>();
  const compiled: CompiledSchema = {
    type: "AVRO",
    name: root.name,
    fields: fields.list,
    celShape: shapes.root,
    coerce: (value) => value,
    validate: (value) => avroProblems(root, value),
    encode: (value, headroom) => avroEncode(root, value, headroom),
    decode: (payload, start) => avroDecode(root, payload, start),
    decodeFrom(payload, writer) {
      let decode = resolvers.get(writer);
      if (!decode) {
        const writerType = avroTypes.get(writer);
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
    jsonRedactor(tags) {
      const tagged = new Set<string>();
      for (const f of fields.list) if (hasAnyTag(f.tags, tags)) tagged.add(f.fullName);
      if (tagged.size === 0) return undefined;
      return (value, replace) => avroToRedactedJson(root, value, form, { fields: tagged, replace });
    },
    toJson: (value) => avroToJson(root, value, form),
    fromJson,
  };
  avroTypes.set(compiled, root);
  return compiled;
}

/** The avsc type behind each compiled schema, for schema resolution between versions. */
const avroTypes = new WeakMap<CompiledSchema, AvroType>();
