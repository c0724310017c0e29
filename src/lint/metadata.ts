/**
 * Checks of a contract's metadata: every tag wildcard matches some field, and
 * every `sensitive` entry names a property that exists.
 */
import { wildcardMatch } from "../contract/tags.js";
import { patternMatchesTemplate } from "../format/json-schema/tags.js";
import type { CompiledSchema } from "../format/types.js";
import type { RawDiagnostic } from "./load.js";
import { positionOf, type DocumentText } from "./where.js";

export function checkMetadata(d: DocumentText, schema: CompiledSchema | undefined, report: (d: RawDiagnostic) => void): void {
  const doc = d.doc;
  const metadata = doc.contract.metadata;
  if (typeof metadata !== "object" || metadata === null) return;
  const base = { subject: doc.subject, version: doc.version };
  if (schema && typeof metadata.tags === "object" && metadata.tags !== null) {
    const names = schema.fields.map((f) => f.fullName);
    const matches = schema.type === "JSON" ? patternMatchesTemplate : wildcardMatch;
    for (const pattern of Object.keys(metadata.tags)) {
      if (names.some((n) => matches(schema.type === "JSON" ? pattern : n, schema.type === "JSON" ? n : pattern))) continue;
      const path = ["metadata", "tags", pattern];
      report({
        ...base,
        code: "metadata-tag-unmatched",
        message: `metadata.tags pattern ${JSON.stringify(pattern)} matches no field of the schema, so its tags apply nowhere`,
        position: positionOf(d, path, { key: true }),
        path: `metadata.tags[${JSON.stringify(pattern)}]`,
        hint: hintFor(pattern, names, schema.type === "JSON"),
      });
    }
  }
  if (Array.isArray(metadata.sensitive)) {
    const properties = metadata.properties ?? {};
    metadata.sensitive.forEach((name, i) => {
      if (typeof name !== "string" || Object.hasOwn(properties, name)) return;
      report({
        ...base,
        code: "metadata-sensitive-unknown",
        message: `metadata.sensitive names property ${JSON.stringify(name)}, which metadata.properties does not define`,
        position: positionOf(d, ["metadata", "sensitive", i]),
        path: `metadata.sensitive[${i}]`,
      });
    });
  }
}

function hintFor(pattern: string, names: readonly string[], json: boolean): string {
  const last = pattern.split(".").pop() ?? "";
  const similar = names.filter((n) => n.split(".").pop()?.toLowerCase() === last.toLowerCase()).slice(0, 3);
  if (similar.length > 0) return `fields with that name: ${similar.join(", ")}`;
  return json
    ? "JSON Schema field names are paths: $.address.street, $.items[*].sku"
    : "Avro and Protobuf field names are <record full name>.<field>, e.g. com.acme.Order.email; ** matches across dots";
}
