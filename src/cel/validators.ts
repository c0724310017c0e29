/**
 * The string checks behind Confluent's CEL helpers (isEmail, isHostname, isIpv4,
 * isIpv6, isUri, isUriRef, isUuid), ported from the Java implementation so that a
 * contract gives the same verdict in Java and Node:
 * - Confluent's BuiltinOverload (schema-rules): an empty string is false, then
 * - Apache commons-validator 1.7/1.8 EmailValidator.getInstance(false, true),
 *   DomainValidator.getInstance(true) plus "no underscore", InetAddressValidator,
 * - java.net.URI (isUri: parses and has a scheme; isUriRef: parses),
 * - java.util.UUID.fromString (JDK 17+: five dash-separated hex groups of any length).
 * Java regexes are translated with their Java meaning (ASCII \d, \s, \p{Alnum};
 * `.` excludes Java's line terminators). Every check runs in linear time.
 */
import { domainToASCII } from "node:url";
import { parseJavaUri } from "./java-uri.js";
import { isKnownTld } from "./tlds.js";

export function isEmail(s: string): boolean {
  if (s === "" || s.endsWith(".")) return false;
  const at = emailSplit(s);
  if (at < 0) return false;
  return isValidEmailUser(s.slice(0, at)) && isValidEmailDomain(s.slice(at + 1));
}

export function isHostname(s: string): boolean {
  return s !== "" && isValidDomain(s, true) && !s.includes("_");
}

export function isIpv4(s: string): boolean {
  return s !== "" && isValidInet4Address(s);
}

export function isIpv6(s: string): boolean {
  return s !== "" && isValidInet6Address(s);
}

/** Absolute URIs only (with a scheme), as java.net.URI#isAbsolute. */
export function isUri(s: string): boolean {
  return s !== "" && parseJavaUri(s)?.absolute === true;
}

export function isUriRef(s: string): boolean {
  return s !== "" && parseJavaUri(s) !== undefined;
}

export function isUuid(s: string): boolean {
  return s !== "" && isJavaUuid(s);
}

// ---- EmailValidator ----

/** Java's line terminators, which `.` does not match. */
const LINE_TERMINATOR = /[\n\r\u0085\u2028\u2029]/;
/** Java's \s: ASCII whitespace only. */
function isJavaSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * `^(.+)@(\S+)$` with a greedy first group, without backtracking: the '@' is the
 * last one followed only by non-space characters and preceded by no line terminator.
 * Returns its index, or -1.
 */
function emailSplit(s: string): number {
  let lastSpace = -1;
  for (let i = s.length - 1; i >= 0; i--) {
    if (isJavaSpace(s.charCodeAt(i))) {
      lastSpace = i;
      break;
    }
  }
  const lt = s.search(LINE_TERMINATOR);
  const limit = Math.min(s.length - 2, lt < 0 ? s.length : lt);
  const at = s.lastIndexOf("@", limit);
  return at >= 1 && at > lastSpace ? at : -1;
}

// WORD = ((VALID_CHAR|')+|QUOTED_USER); VALID_CHAR = (\\.)|[^\s\p{Cntrl}()<>@,;:'\\\".\[\]]
const EMAIL_WORD =
  String.raw`(?:(?:\\[^\n\r\u0085\u2028\u2029]|[^\x00-\x20\x7f()<>@,;:'\\".\[\]]|')+|"(?:\\"|[^"])*")`;
const EMAIL_USER = new RegExp(`^${EMAIL_WORD}(?:\\.${EMAIL_WORD})*$`);

function isValidEmailUser(user: string): boolean {
  // The length check comes first in Java too; it also bounds the regex's work.
  return user.length <= 64 && EMAIL_USER.test(user);
}

function isValidEmailDomain(domain: string): boolean {
  if (domain.startsWith("[") && domain.endsWith("]") && domain.length >= 2) {
    const inner = domain.slice(1, -1);
    if (!LINE_TERMINATOR.test(inner)) return isValidInet4Address(inner) || isValidInet6Address(inner);
  }
  return isValidDomain(domain, false) || (!domain.startsWith(".") && isValidTld(domain, false));
}

// ---- DomainValidator ----

const MAX_DOMAIN_LENGTH = 253;
const DOMAIN_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const TOP_LABEL = "[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
// Java uses atomic groups here; since a label can never contain the '.' that
// must follow it, plain groups accept exactly the same strings.
const DOMAIN_NAME = new RegExp(`^(?:${DOMAIN_LABEL}\\.)+(${TOP_LABEL})\\.?$`);
const HOSTNAME = new RegExp(`^${DOMAIN_LABEL}$`);
const LOCAL_TLDS: ReadonlySet<string> = new Set(["localdomain", "localhost"]);

function isValidDomain(input: string, allowLocal: boolean): boolean {
  const domain = unicodeToAscii(input);
  if (domain.length > MAX_DOMAIN_LENGTH) return false;
  const m = DOMAIN_NAME.exec(domain);
  if (m !== null) return isValidTld(m[1], allowLocal);
  return allowLocal && HOSTNAME.test(domain);
}

function isValidTld(tld: string, allowLocal: boolean): boolean {
  let key = unicodeToAscii(tld).toLowerCase();
  if (key.startsWith(".")) key = key.slice(1);
  return (allowLocal && LOCAL_TLDS.has(key)) || isKnownTld(key);
}

/**
 * IDN to ASCII for non-ASCII input. Java uses IDNA2003 (java.net.IDN); Node
 * implements UTS #46, which agrees on ordinary names. Like Java, input that does
 * not convert is returned unchanged (and then fails the ASCII-only patterns).
 */
function unicodeToAscii(input: string): string {
  if (/^[\x00-\x7f]*$/.test(input)) return input;
  const ascii = domainToASCII(input);
  return ascii === "" ? input : ascii;
}

// ---- InetAddressValidator ----

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isValidInet4Address(s: string): boolean {
  const m = IPV4.exec(s);
  if (m === null) return false;
  for (let i = 1; i <= 4; i++) {
    const segment = m[i];
    if (Number(segment) > 255) return false;
    if (segment.length > 1 && segment.startsWith("0")) return false;
  }
  return true;
}

function isValidInet6Address(input: string): boolean {
  let parts = javaSplit(input, "/", true);
  if (parts.length > 2) return false;
  if (parts.length === 2) {
    if (!/^\d{1,3}$/.test(parts[1]) || Number(parts[1]) > 128) return false;
  }
  parts = javaSplit(parts[0], "%", true);
  if (parts.length > 2) return false;
  // A zone id: no Java whitespace, '/' or '%'.
  if (parts.length === 2 && !/^[^ \t\n\x0b\f\r/%]+$/.test(parts[1])) return false;
  const address = parts[0];
  const compressed = address.includes("::");
  if (compressed && address.indexOf("::") !== address.lastIndexOf("::")) return false;
  if ((address.startsWith(":") && !address.startsWith("::")) || (address.endsWith(":") && !address.endsWith("::"))) {
    return false;
  }
  let octets = javaSplit(address, ":", false);
  if (compressed) {
    if (address.endsWith("::")) octets.push("");
    else if (address.startsWith("::") && octets.length > 0) octets = octets.slice(1);
  }
  if (octets.length > 8) return false;
  let validOctets = 0;
  let emptyOctets = 0;
  for (let i = 0; i < octets.length; i++) {
    const octet = octets[i];
    if (octet === "") {
      if (++emptyOctets > 1) return false;
    } else {
      emptyOctets = 0;
      if (i === octets.length - 1 && octet.includes(".")) {
        if (!isValidInet4Address(octet)) return false;
        validOctets += 2;
        continue;
      }
      if (octet.length > 4) return false;
      const value = javaParseInt(octet, 16, INT_MAX);
      if (value === undefined || value < 0n || value > 0xffffn) return false;
    }
    validOctets++;
  }
  return validOctets <= 8 && (validOctets >= 8 || compressed);
}

/**
 * String.split with a one-character literal separator: limit 0 (`keepTrailing`
 * false) drops trailing empty strings, limit -1 keeps them; no match gives [s].
 */
function javaSplit(s: string, sep: string, keepTrailing: boolean): string[] {
  if (!s.includes(sep)) return [s];
  const parts = s.split(sep);
  if (!keepTrailing) while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

// ---- java.lang parsing ----

/** Character.digit(char, radix): ASCII, fullwidth Latin and Unicode decimal digits. */
function javaDigit(c: number, radix: number): number {
  let v: number;
  if (c >= 0x30 && c <= 0x39) v = c - 0x30;
  else if (c >= 0x61 && c <= 0x7a) v = c - 0x61 + 10;
  else if (c >= 0x41 && c <= 0x5a) v = c - 0x41 + 10;
  else if (c >= 0xff21 && c <= 0xff3a) v = c - 0xff21 + 10;
  else if (c >= 0xff41 && c <= 0xff5a) v = c - 0xff41 + 10;
  else v = unicodeDecimalValue(c);
  return v >= 0 && v < radix ? v : -1;
}

const DECIMAL_DIGIT = /^\p{Nd}$/u;

/** The value of a BMP decimal digit (Unicode Nd), else -1. Nd digits come in runs of ten from zero. */
function unicodeDecimalValue(c: number): number {
  if (c < 0x80 || (c >= 0xd800 && c <= 0xdfff)) return -1;
  if (!DECIMAL_DIGIT.test(String.fromCharCode(c))) return -1;
  let start = c;
  while (start > 0 && DECIMAL_DIGIT.test(String.fromCharCode(start - 1))) start--;
  return (c - start) % 10;
}

const INT_MAX = 0x7fffffffn;
const LONG_MAX = 0x7fffffffffffffffn;

/**
 * Integer.parseInt / Long.parseLong (`max` tells which): optional sign, at least
 * one digit, no overflow. Undefined where Java throws NumberFormatException.
 */
function javaParseInt(s: string, radix: number, max: bigint): bigint | undefined {
  let i = 0;
  let negative = false;
  if (s[0] === "-" || s[0] === "+") {
    negative = s[0] === "-";
    i = 1;
  }
  if (i >= s.length) return undefined;
  let value = 0n;
  const base = BigInt(radix);
  for (; i < s.length; i++) {
    const d = javaDigit(s.charCodeAt(i), radix);
    if (d < 0) return undefined;
    value = value * base + BigInt(d);
    if (value > max + 1n) return undefined;
  }
  if (negative ? value > max + 1n : value > max) return undefined;
  return negative ? -value : value;
}

/**
 * UUID.fromString (JDK 17+): at most 36 chars, exactly four dashes, each group
 * a Long.parseLong-able hex number (so "1-1-1-1-1" and "+a-b-c-d-e" are UUIDs).
 */
function isJavaUuid(s: string): boolean {
  if (s.length > 36) return false;
  const groups = s.split("-");
  if (groups.length !== 5) return false;
  return groups.every((group) => javaParseInt(group, 16, LONG_MAX) !== undefined);
}
