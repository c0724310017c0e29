/**
 * Protobuf format adapter on @bufbuild/protobuf v2. Schemas are .proto source
 * text (as registries store them), parsed with protobufjs into descriptors.
 */
import { schemaTypeOf, type Contract } from "../../contract/model.js";
import { ContractError } from "../../errors.js";
import type { CompiledSchema, CompileSchemaOptions, FormatAdapter } from "../types.js";
import { buildRegistry } from "./registry.js";
import { ProtobufFile, type ProtobufSchema } from "./schema.js";

export type { ProtobufSchema } from "./schema.js";
export { ROOT_FILE_NAME, builtinFile, messageIndexesOf } from "./registry.js";
export { CONFLUENT_META_PROTO, CONFLUENT_DECIMAL_PROTO } from "./builtins.js";
export { typeNameOf } from "./fields.js";

/**
 * Compiles the first message of the schema, or `options.messageName` (a full
 * name, or a name relative to the file's package). Imports resolve to the
 * built-in files (google/protobuf/*, confluent/meta.proto,
 * confluent/type/decimal.proto), then to `options.references` by import path.
 * Throws ContractError "schema-invalid" (or "schema-missing" for an
 * unresolvable import).
 */
export function compileProtobuf(contract: Contract, options: CompileSchemaOptions = {}): ProtobufSchema {
  if (schemaTypeOf(contract) !== "PROTOBUF") {
    throw new ContractError("schema-invalid", `expected a PROTOBUF schema, got ${schemaTypeOf(contract)}`);
  }
  const { registry, file } = buildRegistry(contract.schema, options.references);
  const owner = new ProtobufFile(registry, file, contract.metadata);
  if (options.messageName === undefined) {
    const first = file.messages[0];
    if (!first) throw new ContractError("schema-invalid", "the Protobuf schema declares no message");
    return owner.schemaFor(first);
  }
  const name = options.messageName.replace(/^\./, "");
  const pkg = file.proto.package;
  const desc = [name, pkg ? `${pkg}.${name}` : undefined]
    .map((n) => (n === undefined ? undefined : registry.getMessage(n)))
    .find((d) => d !== undefined && d.file === file);
  if (!desc) {
    const names = [...registry].filter((d) => d.kind === "message" && d.file === file).map((d) => d.typeName);
    throw new ContractError("schema-invalid", `message "${options.messageName}" is not declared in the schema (it declares: ${names.join(", ")})`);
  }
  return owner.schemaFor(desc);
}

/**
 * The adapter the engine uses. Its schemas are ProtobufSchema (use
 * compileProtobuf for the precise type); every method also accepts values not
 * typed as Message (they are checked, or coerced), which makes the widening to
 * CompiledSchema<unknown> sound.
 */
export const protobufFormat: FormatAdapter = {
  type: "PROTOBUF",
  compile: (contract, options) => compileProtobuf(contract, options) as unknown as CompiledSchema,
};
