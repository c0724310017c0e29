/**
 * The JSON Schema format adapter, on Ajv. Values are plain JSON values; the
 * payload is UTF-8 JSON text. The dialect comes from `$schema` (draft-07 when
 * absent); references are added to Ajv under their reference name.
 */
import type { Contract } from "../../contract/model.js";
import { ContractError, SerializationError } from "../../errors.js";
import type { CompileSchemaOptions, CompiledSchema, FieldWalker, FormatAdapter } from "../types.js";
import { DEFAULT_BASE, createAjvLoader, dialectOf } from "./ajv.js";
import { compiledPayload, jsonDecode, jsonEncode, jsonProblems } from "./codec.js";
import { compileJsonWriter } from "./fast-encode.js";
import { jsonFields } from "./fields.js";
import { type Loc, type SchemaNode, indexSchemas, isObjectSchema, isSchemaNode, stripFragment } from "./locate.js";
import { partsReader } from "./parts.js";
import { jsonShapes } from "./shape.js";
import { compileJsonWalker } from "./walker.js";
import { compileJsonRedactor } from "./redact.js";

export const jsonSchemaFormat: FormatAdapter = {
  type: "JSON",
  compile: compileJsonSchema,
};

function parseSchema(text: string, what: string): SchemaNode {
  let node: unknown;
  try {
    node = JSON.parse(text);
  } catch (e) {
    throw new ContractError("schema-invalid", `invalid JSON Schema ${what}: not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isSchemaNode(node)) throw new ContractError("schema-invalid", `invalid JSON Schema ${what}: must be an object or a boolean`);
  return node;
}

function compileJsonSchema(contract: Contract, options?: CompileSchemaOptions): CompiledSchema {
  const rootNode = parseSchema(contract.schema, "schema");
  const dialect = dialectOf(rootNode);
  const refs = [...(options?.references ?? new Map<string, Contract>())].map(([name, c]) => ({
    name,
    node: parseSchema(c.schema, `reference ${name}`),
  }));
  // URIs are resolved with Ajv's resolver, so our $ref lookups agree with Ajv's.
  const rootId = isObjectSchema(rootNode) && typeof rootNode.$id === "string" ? rootNode.$id : undefined;
  const loader = createAjvLoader(dialect);
  const rootBase = stripFragment(rootId !== undefined ? loader.resolveUri(DEFAULT_BASE, rootId) : DEFAULT_BASE);
  const references = refs.map((r) => ({ ...r, base: stripFragment(loader.resolveUri(rootBase, r.name)) }));
  const ajv = loader.load({ node: rootNode, base: rootBase }, references);

  const index = indexSchemas([{ node: rootNode, base: rootBase }, ...references], ajv.resolveUri);
  const partsOf = partsReader(index);
  const root: Loc = { node: rootNode, base: rootBase, pointer: "" };
  const fields = jsonFields(partsOf, root, contract.metadata);
  const shapes = jsonShapes(partsOf, root, ajv.validatorAt);
  const title = isObjectSchema(rootNode) && typeof rootNode.title === "string" ? rootNode.title : undefined;
  const walkers = new Map<string, FieldWalker>();
  const label = title ?? rootId ?? "schema";
  // Validation and text in one compiled pass, for schemas of the common keywords; the generic encode for the rest.
  const writer = references.length === 0 ? compileJsonWriter(rootNode, ajv.validates) : undefined;
  const encode = (value: unknown, headroom = 0): Uint8Array => {
    if (writer !== undefined) {
      let bytes: Uint8Array | undefined;
      try {
        bytes = compiledPayload(writer, value, headroom);
      } catch {
        // Nested deeper than the stack, or a getter that throws: the generic encode reports it.
        bytes = undefined;
      }
      if (bytes !== undefined) return bytes;
    }
    return jsonEncode(ajv.validateRoot, value, label, headroom);
  };

  return {
    type: "JSON",
    name: title,
    fields,
    celShape: shapes.root,
    coerce: (value) => value,
    validate: (value) => jsonProblems(ajv.validateRoot, value),
    encode,
    decode: (payload, start) => jsonDecode(start ? payload.subarray(start) : payload),
    fieldWalker(tags) {
      const key = tags && tags.size > 0 ? [...tags].sort().join("\u0000") : "";
      let walker = walkers.get(key);
      if (!walker) {
        walker = compileJsonWalker({ partsOf, shapes, validatorAt: ajv.validatorAt, metadata: contract.metadata, root }, tags);
        walkers.set(key, walker);
      }
      return walker;
    },
    jsonRedactor: (tags) => compileJsonRedactor(partsOf, root, contract.metadata, tags),
    // The native form is JSON already (Java JsonSchema.toJson/fromJson pass it through).
    toJson: (value) => value,
    fromJson: (json) => {
      if (json === undefined) throw new SerializationError("message-invalid", "JSON form is undefined");
      return json;
    },
  };
}
