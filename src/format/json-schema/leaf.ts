/** JSON values and their Confluent type names. */
import type { FieldTypeName } from "../types.js";
import type { JsonType } from "./parts.js";


/** The type name of a primitive JSON type, or undefined for object and array. */
export function primitiveTypeName(t: JsonType): FieldTypeName | undefined {
  switch (t) {
    case "string":
      return "STRING";
    case "integer":
      return "INT";
    case "number":
      return "DOUBLE";
    case "boolean":
      return "BOOLEAN";
    case "null":
      return "NULL";
    default:
      return undefined;
  }
}

/** Whether a value is of a JSON Schema type ("integer" values are also "number"s). */
export function isOfType(value: unknown, t: JsonType): boolean {
  switch (t) {
    case "null":
      return value === null;
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" || typeof value === "bigint";
    case "integer":
      return (typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint";
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
  }
}
