/**
 * One Ajv instance per compiled schema, of the dialect its `$schema` names
 * (draft-07 when absent, as Confluent does). Referenced schemas are added
 * under their reference name, resolved against the root's base URI, so a
 * `$ref` by that name finds them. Validators are compiled once and cached.
 */
import { Ajv, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import type * as AjvCoreModule from "ajv/dist/core.js";
import draft6MetaSchema from "ajv/dist/refs/json-schema-draft-06.json" with { type: "json" };
import addFormatsModule from "ajv-formats";
import { ContractError } from "../../errors.js";
import { type Loc, type SchemaNode, type UriResolver, locUri } from "./locate.js";

export type Dialect = "draft-06" | "draft-07" | "2019-09" | "2020-12";

/** Java's JsonSchema.DEFAULT_BASE_URI: the base of a root schema without `$id`. */
export const DEFAULT_BASE = "mem://input";

export function dialectOf(root: SchemaNode): Dialect {
  const uri = typeof root === "object" ? root.$schema : undefined;
  if (uri === undefined) return "draft-07";
  if (typeof uri !== "string") throw new ContractError("schema-invalid", "JSON Schema $schema must be a string");
  if (uri.includes("2020-12")) return "2020-12";
  if (uri.includes("2019-09")) return "2019-09";
  if (uri.includes("draft-07")) return "draft-07";
  if (uri.includes("draft-06")) return "draft-06";
  throw new ContractError("schema-invalid", `JSON Schema dialect ${uri} is not supported (use draft-06, draft-07, 2019-09 or 2020-12)`);
}

export interface AjvSchemas {
  readonly validateRoot: ValidateFunction;
  readonly resolveUri: UriResolver;
  /** The validator of the subschema at `loc`, compiled on first use. */
  validatorAt(loc: Loc): ValidateFunction;
  /** Whether this Ajv validates with `keyword` (unknown keywords it ignores: strict is off). */
  validates(keyword: string): boolean;
}

const addFormats = addFormatsModule.default;
type AjvCore = AjvCoreModule.default;

function createAjv(dialect: Dialect): AjvCore {
  // strict: false keeps Ajv quiet about keywords it does not know (javaType, ...);
  // the Confluent keywords are declared so their values are still checked.
  // ownProperties: messages are untrusted JSON, and without it a property named
  // `constructor` or `toString` is "present" through Object.prototype.
  // strictNumbers: NaN and ±Infinity are no JSON numbers (JSON.stringify writes null).
  // logger: false: a library does not write to the console (an unknown format is ignored, as before).
  const options = { allErrors: true, strict: false, validateFormats: true, ownProperties: true, strictNumbers: true, logger: false } as const;
  const ajv: AjvCore = dialect === "2020-12" ? new Ajv2020(options) : dialect === "2019-09" ? new Ajv2019(options) : new Ajv(options);
  if (dialect === "draft-06") ajv.addMetaSchema(draft6MetaSchema);
  addFormats(ajv);
  ajv.addKeyword({ keyword: "confluent:tags", metaSchema: { type: "array", items: { type: "string" } } });
  ajv.addKeyword({ keyword: "confluent:rules" });
  return ajv;
}

export interface AjvLoader {
  readonly resolveUri: UriResolver;
  /** Adds the references, then the root; call once. */
  load(root: { node: SchemaNode; base: string }, references: readonly { name: string; node: SchemaNode; base: string }[]): AjvSchemas;
}

export function createAjvLoader(dialect: Dialect): AjvLoader {
  const ajv = createAjv(dialect);
  const resolver = ajv.opts.uriResolver;
  const resolveUri: UriResolver = (base, ref) => resolver.resolve(base, ref);
  return {
    resolveUri,
    load(root, references) {
      try {
        for (const ref of references) ajv.addSchema(ref.node as object, ref.base);
        ajv.addSchema(root.node as object, root.base);
      } catch (e) {
        throw new ContractError("schema-invalid", `invalid JSON Schema: ${(e as Error).message}`, { cause: e });
      }
      const validators = new Map<string, ValidateFunction>();
      const validatorAt = (loc: Loc): ValidateFunction => {
        const uri = locUri(loc);
        let v = validators.get(uri);
        if (!v) {
          try {
            v = ajv.getSchema(uri);
          } catch (e) {
            throw new ContractError("schema-invalid", `invalid JSON Schema at ${uri}: ${(e as Error).message}`, { cause: e });
          }
          if (!v) throw new ContractError("schema-invalid", `JSON Schema location ${uri} not found`);
          validators.set(uri, v);
        }
        return v;
      };
      const validateRoot = validatorAt({ node: root.node, base: root.base, pointer: "" });
      if ((validateRoot as { $async?: boolean }).$async === true) throw new ContractError("schema-invalid", "JSON Schemas with $async are not supported");
      return { validateRoot, validatorAt, resolveUri, validates: (keyword) => ajv.getKeyword(keyword) !== false };
    },
  };
}
