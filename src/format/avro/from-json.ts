/**
 * fromJson compiled once per schema: the JSON form of a message into an avsc
 * value, as json.ts's avroFromJson builds it, without its per-field costs
 * (a path string per field, a thrown error per tried union branch, an
 * argument array per record, a validity walk over the result).
 *
 * The compiled converters do not throw: a value that does not fit comes back
 * as NO_FIT, and only then does the generic conversion run again, for its
 * error with the path. What fits is valid by construction (every leaf is
 * checked as avsc checks it; records are built by their own constructors,
 * which fill in defaults), which test/format/avro/from-json.test.ts checks
 * against the generic conversion on generated values.
 */
import { setOwn } from "../../util/own.js";
import { type AvroType, type RecordType, type UnionType, isArrayType, isEnumType, isFixedType, isMapType, isRecordType, isUnionType, isWrappedUnion, mapValues } from "./avsc.js";
import { type AvroJsonForm, avroFromJson } from "./json.js";

export const NO_FIT: unique symbol = Symbol("no fit");
type Converter = (json: unknown) => unknown;

export function compileAvroFromJson(root: AvroType, form: AvroJsonForm): (json: unknown) => unknown {
  const convert = compileFitting(root, form);
  return (json) => {
    let value: unknown;
    try {
      value = convert(json);
    } catch {
      // A value nested deeper than the stack: the generic conversion reports it.
      value = NO_FIT;
    }
    return value === NO_FIT ? avroFromJson(root, json, form) : value;
  };
}

/** The converter alone: the value, or NO_FIT where the generic conversion throws (exported for its tests). */
export function compileFitting(root: AvroType, form: AvroJsonForm): (json: unknown) => unknown {
  return compile(root, form, new Map());
}

const INT_MIN = -(2 ** 31);
/** avsc's longs stop one short of Number.MAX_SAFE_INTEGER (its isSafeLong): a value beyond is not valid to it. */
const LONG_MAX = 2 ** 53 - 2;
const INT_MAX = 2 ** 31 - 1;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function nonFinite(json: unknown): unknown {
  if (json === "NaN") return NaN;
  if (json === "Infinity") return Infinity;
  if (json === "-Infinity") return -Infinity;
  return NO_FIT;
}

function bytes(form: AvroJsonForm, size: number | undefined): Converter {
  return (json) => {
    if (typeof json !== "string") return NO_FIT;
    let buf: Buffer;
    if (form === "plain") {
      if (json.length % 4 !== 0 || !BASE64.test(json)) return NO_FIT;
      buf = Buffer.from(json, "base64");
    } else {
      for (let i = 0; i < json.length; i++) if (json.charCodeAt(i) > 0xff) return NO_FIT;
      buf = Buffer.from(json, "latin1");
    }
    return size === undefined || buf.length === size ? buf : NO_FIT;
  };
}

const PRIMITIVES: Readonly<Record<string, Converter>> = {
  null: (json) => (json === null ? null : NO_FIT),
  boolean: (json) => (typeof json === "boolean" ? json : NO_FIT),
  string: (json) => (typeof json === "string" ? json : NO_FIT),
  int: (json) => (typeof json === "number" && Number.isInteger(json) && json >= INT_MIN && json <= INT_MAX ? json : NO_FIT),
  long: (json) => (Number.isSafeInteger(json) && Math.abs(json as number) <= LONG_MAX ? json : NO_FIT),
  float: (json) => (typeof json === "number" ? json : nonFinite(json)),
  double: (json) => (typeof json === "number" ? json : nonFinite(json)),
};

function compile(type: AvroType, form: AvroJsonForm, done: Map<AvroType, Converter>): Converter {
  const primitive = PRIMITIVES[type.typeName];
  if (primitive !== undefined) return primitive;
  const known = done.get(type);
  if (known !== undefined) return known;
  if (type.typeName === "bytes") return bytes(form, undefined);
  if (isFixedType(type)) return bytes(form, type.size);
  if (isEnumType(type)) {
    const symbols = new Set(type.symbols);
    return (json) => (typeof json === "string" && symbols.has(json) ? json : NO_FIT);
  }
  if (isRecordType(type)) {
    // Registered before its fields compile: a recursive record refers to itself through `self`.
    let self: Converter = () => NO_FIT;
    done.set(type, (json) => self(json));
    self = compileRecord(type, form, done);
    done.set(type, self);
    return self;
  }
  if (isArrayType(type)) {
    const item = compile(type.itemsType, form, done);
    return (json) => {
      if (!Array.isArray(json)) return NO_FIT;
      // Sized up front: grown by push from empty, a one-item array got room for 17 (V8's first step).
      const out = new Array<unknown>(json.length);
      for (let i = 0; i < json.length; i++) {
        const v = item(json[i]);
        if (v === NO_FIT) return NO_FIT;
        out[i] = v;
      }
      return out;
    };
  }
  if (isMapType(type)) {
    const values = compile(mapValues(type), form, done);
    return (json) => {
      if (json === null || typeof json !== "object" || Array.isArray(json)) return NO_FIT;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(json)) {
        const v = values((json as Record<string, unknown>)[key]);
        if (v === NO_FIT) return NO_FIT;
        setOwn(out, key, v);
      }
      return out;
    };
  }
  if (isUnionType(type)) return compileUnion(type, form, done);
  return () => NO_FIT;
}

/**
 * A record's converter, generated as avsc generates its own record code: one
 * local per field, the common leaf checks inline, the record built by its
 * constructor with the fields as arguments (a missing field stays undefined,
 * and the constructor puts in its default).
 */
function compileRecord(type: RecordType, form: AvroJsonForm, done: Map<AvroType, Converter>): Converter {
  const converters: Converter[] = [];
  const lines: string[] = ['if (j === null || typeof j !== "object" || Array.isArray(j)) return F;'];
  type.fields.forEach((field, i) => {
    const key = JSON.stringify(field.name);
    const v = `v${i}`;
    lines.push(`let ${v} = hasOwn(j, ${key}) ? j[${key}] : undefined;`);
    const missing = field.defaultValue() !== undefined ? "" : "return F;";
    let check: string;
    switch (field.type.typeName) {
      case "string":
        check = `if (typeof ${v} !== "string") return F;`;
        break;
      case "boolean":
        check = `if (typeof ${v} !== "boolean") return F;`;
        break;
      case "int":
        check = `if (typeof ${v} !== "number" || (${v} | 0) !== ${v}) return F;`;
        break;
      case "long":
        check = `if (!Number.isSafeInteger(${v}) || Math.abs(${v}) > ${LONG_MAX}) return F;`;
        break;
      case "float":
      case "double":
        check = `if (typeof ${v} !== "number" && (${v} = nonFinite(${v})) === F) return F;`;
        break;
      default:
        converters.push(compile(field.type, form, done));
        check = `if ((${v} = c[${converters.length - 1}](${v})) === F) return F;`;
    }
    lines.push(missing === "" ? `if (${v} !== undefined) { ${check} }` : `if (${v} === undefined) return F; ${check}`);
  });
  lines.push(`return new Ctor(${type.fields.map((_, i) => `v${i}`).join(", ")});`);
  const factory = new Function("F", "hasOwn", "nonFinite", "c", "Ctor", `return function fromJson(j) {\n${lines.join("\n")}\n};`) as (
    ...args: unknown[]
  ) => Converter;
  return factory(NO_FIT, Object.hasOwn, nonFinite, converters, type.recordConstructor);
}

function compileUnion(type: UnionType, form: AvroJsonForm, done: Map<AvroType, Converter>): Converter {
  const branches = type.types.map((t) => ({ type: t, convert: compile(t, form, done), name: t.branchName! }));
  const hasNull = type.types.some((t) => t.typeName === "null");
  const wrapped = isWrappedUnion(type);
  // The wrapper's key names a branch by its branch name, or else a named type by its short name: the first that does.
  const byKey = new Map<string, (typeof branches)[number]>();
  for (const b of branches) if (!byKey.has(b.name)) byKey.set(b.name, b);
  for (const b of branches) {
    const name = b.type.name;
    if (name === undefined) continue;
    const short = name.slice(name.lastIndexOf(".") + 1);
    if (!byKey.has(short)) byKey.set(short, b);
  }
  const nonNull = branches.filter((b) => b.type.typeName !== "null");
  const wrap = (b: (typeof branches)[number], inner: unknown): unknown => (wrapped ? { [b.name]: inner } : inner);
  return (json) => {
    if (json === null) return hasNull ? null : NO_FIT;
    // Avro's JSON encoding, {"<branch>": value}; if the inner value does not fit, the plain form below may still.
    if (typeof json === "object" && !Array.isArray(json)) {
      const keys = Object.keys(json);
      if (keys.length === 1) {
        const b = byKey.get(keys[0]!);
        if (b !== undefined && b.type.typeName !== "null") {
          const inner = b.convert((json as Record<string, unknown>)[keys[0]!]);
          if (inner !== NO_FIT) return wrap(b, inner);
        }
      }
    }
    for (const b of nonNull) {
      const v = b.convert(json);
      if (v !== NO_FIT) return wrap(b, v);
    }
    return NO_FIT;
  };
}
