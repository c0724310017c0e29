/**
 * Files every schema may import without a schema reference: the well-known
 * types of google/protobuf/, and Confluent's confluent/meta.proto and
 * confluent/type/decimal.proto (as the Confluent serializers provide them).
 */
import type { DescFile } from "@bufbuild/protobuf";
import {
  file_google_protobuf_any,
  file_google_protobuf_api,
  file_google_protobuf_descriptor,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_source_context,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_type,
  file_google_protobuf_wrappers,
} from "@bufbuild/protobuf/wkt";

const WKT: ReadonlyMap<string, DescFile> = new Map([
  ["google/protobuf/any.proto", file_google_protobuf_any],
  ["google/protobuf/api.proto", file_google_protobuf_api],
  ["google/protobuf/descriptor.proto", file_google_protobuf_descriptor],
  ["google/protobuf/duration.proto", file_google_protobuf_duration],
  ["google/protobuf/empty.proto", file_google_protobuf_empty],
  ["google/protobuf/field_mask.proto", file_google_protobuf_field_mask],
  ["google/protobuf/source_context.proto", file_google_protobuf_source_context],
  ["google/protobuf/struct.proto", file_google_protobuf_struct],
  ["google/protobuf/timestamp.proto", file_google_protobuf_timestamp],
  ["google/protobuf/type.proto", file_google_protobuf_type],
  ["google/protobuf/wrappers.proto", file_google_protobuf_wrappers],
]);

export const CONFLUENT_META_PROTO = "confluent/meta.proto";
export const CONFLUENT_DECIMAL_PROTO = "confluent/type/decimal.proto";

/**
 * confluent/meta.proto as in confluentinc/schema-registry: the same field and
 * extension numbers, so options written here read back in the Java and JS clients.
 */
export const CONFLUENT_META_SOURCE = `syntax = "proto3";
package confluent;

import "google/protobuf/descriptor.proto";

option go_package = "../confluent";
option java_package = "io.confluent.protobuf";
option java_outer_classname = "MetaProto";

message Meta {
  string doc = 1;
  map<string, string> params = 2;
  repeated string tags = 3;
}

extend google.protobuf.FileOptions {
  Meta file_meta = 1088;
}
extend google.protobuf.MessageOptions {
  Meta message_meta = 1088;
}
extend google.protobuf.FieldOptions {
  Meta field_meta = 1088;
}
extend google.protobuf.EnumOptions {
  Meta enum_meta = 1088;
}
extend google.protobuf.EnumValueOptions {
  Meta enum_value_meta = 1088;
}
`;

export const CONFLUENT_DECIMAL_SOURCE = `syntax = "proto3";
package confluent.type;

option go_package = "../type";
option java_package = "io.confluent.protobuf.type";
option java_outer_classname = "DecimalProto";

message Decimal {
  // The two's-complement big-endian unscaled value
  bytes value = 1;
  uint32 precision = 2;
  int32 scale = 3;
}
`;

/** Source text of the built-in Confluent files, compiled on first use by the same parser as user schemas. */
export const CONFLUENT_SOURCES: ReadonlyMap<string, string> = new Map([
  [CONFLUENT_META_PROTO, CONFLUENT_META_SOURCE],
  [CONFLUENT_DECIMAL_PROTO, CONFLUENT_DECIMAL_SOURCE],
]);

export function wellKnownFile(name: string): DescFile | undefined {
  return WKT.get(name);
}

/** Names of the five confluent.Meta extensions, by the options message they extend. */
export const META_EXTENSIONS = {
  file: "confluent.file_meta",
  message: "confluent.message_meta",
  field: "confluent.field_meta",
  enum: "confluent.enum_meta",
  enumValue: "confluent.enum_value_meta",
} as const;
