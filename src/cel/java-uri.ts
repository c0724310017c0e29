/**
 * Whether a string parses as a java.net.URI (RFC 2396 with the JDK's documented
 * deviations), as Confluent's isUri()/isUriRef() decide by calling `new URI(s)`.
 * This follows the JDK 17/21 parser step by step, including its quirks:
 * registry-based authorities are the fallback when a server authority does not
 * parse, visible non-ASCII characters are allowed wherever escapes are, and an
 * over-long number inside an IPv6 literal escapes as a NumberFormatException
 * (which Java's helper does not catch, so the rule errors).
 */

/** java.net.URISyntaxException: the string is not a URI. */
class UriSyntax extends Error {}

/** A character class over ASCII, plus whether %XX escapes and visible non-ASCII chars are allowed. */
interface CharSet {
  readonly ascii: Uint8Array;
  readonly escaped: boolean;
}

function chars(spec: string): Uint8Array {
  const set = new Uint8Array(128);
  for (let i = 0; i < spec.length; i++) set[spec.charCodeAt(i)] = 1;
  return set;
}
function range(from: string, to: string): Uint8Array {
  const set = new Uint8Array(128);
  for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c++) set[c] = 1;
  return set;
}
function union(...sets: (Uint8Array | CharSet)[]): CharSet {
  const ascii = new Uint8Array(128);
  let escaped = false;
  for (const s of sets) {
    const a = s instanceof Uint8Array ? s : s.ascii;
    if (!(s instanceof Uint8Array) && s.escaped) escaped = true;
    for (let i = 0; i < 128; i++) ascii[i] |= a[i];
  }
  return { ascii, escaped };
}
const ESCAPED: CharSet = { ascii: new Uint8Array(128), escaped: true };

const DIGIT = union(range("0", "9"));
const ALPHA = union(range("a", "z"), range("A", "Z"));
const ALPHANUM = union(DIGIT, ALPHA);
const HEX = union(DIGIT, range("a", "f"), range("A", "F"));
const MARK = chars("-_.!~*'()");
const UNRESERVED = union(ALPHANUM, MARK);
const RESERVED = chars(";/?:@&=+$,[]");
const URIC = union(RESERVED, UNRESERVED, ESCAPED);
const PCHAR = union(UNRESERVED, ESCAPED, chars(":@&=+$,"));
const PATH = union(PCHAR, chars(";/"));
const DASH = chars("-");
const DOT = union(chars("."));
const USERINFO = union(UNRESERVED, ESCAPED, chars(";:&=+$,"));
const REG_NAME = union(UNRESERVED, ESCAPED, chars("$,;:@&=+"));
const SERVER = union(USERINFO, ALPHANUM, DASH, chars(".:@[]"));
const SERVER_PERCENT = union(SERVER, chars("%"));
const SCHEME = union(ALPHA, DIGIT, chars("+-."));
const SCOPE_ID = union(ALPHANUM, chars("_."));
const ALPHANUM_DASH = union(ALPHANUM, DASH);
const DIGIT_DOT = union(DIGIT, DOT);

function inSet(c: number, set: CharSet): boolean {
  return c !== 0 && c < 128 && set.ascii[c] === 1;
}

/** Character.isSpaceChar for a UTF-16 unit: Unicode Zs, Zl, Zp. */
function isSpaceChar(c: number): boolean {
  return (
    c === 0x20 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}
function isIsoControl(c: number): boolean {
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f);
}

class Parser {
  private ipv6ByteCount = 0;
  scheme = false;
  constructor(private readonly s: string) {}

  private at(p: number, n: number, c: string): boolean {
    return p < n && this.s[p] === c;
  }
  private atStr(p: number, n: number, str: string): boolean {
    return n - p >= str.length && this.s.startsWith(str, p);
  }
  /** Index of the first char of `stop` (or n); -1 if a char of `err` comes first. */
  private scanStop(start: number, n: number, err: string, stop: string): number {
    for (let p = start; p < n; p++) {
      const c = this.s[p];
      if (err.includes(c)) return -1;
      if (stop.includes(c)) return p;
    }
    return n;
  }
  private scanChar(p: number, n: number, c: string): number {
    return p < n && this.s[p] === c ? p + 1 : p;
  }
  private scanEscape(p: number, n: number, c: number): number {
    if (c === 0x25 /* % */) {
      if (p + 3 <= n && inSet(this.s.charCodeAt(p + 1), HEX) && inSet(this.s.charCodeAt(p + 2), HEX)) return p + 3;
      throw new UriSyntax("Malformed escape pair");
    }
    if (c > 128 && !isSpaceChar(c) && !isIsoControl(c)) return p + 1;
    return p;
  }
  private scan(start: number, n: number, set: CharSet): number {
    let p = start;
    while (p < n) {
      const c = this.s.charCodeAt(p);
      if (inSet(c, set)) {
        p++;
        continue;
      }
      if (set.escaped) {
        const q = this.scanEscape(p, n, c);
        if (q > p) {
          p = q;
          continue;
        }
      }
      break;
    }
    return p;
  }
  private checkChars(start: number, end: number, set: CharSet): void {
    if (this.scan(start, end, set) < end) throw new UriSyntax("Illegal character");
  }

  parse(): void {
    const n = this.s.length;
    let p = this.scanStop(0, n, "/?#", ":");
    if (p >= 0 && this.at(p, n, ":")) {
      if (p === 0) throw new UriSyntax("Expected scheme name");
      this.checkChars(0, 1, ALPHA);
      this.checkChars(1, p, SCHEME);
      this.scheme = true;
      p++;
      if (this.at(p, n, "/")) {
        p = this.parseHierarchical(p, n);
      } else {
        const q = this.scanStop(p, n, "", "#");
        if (q <= p) throw new UriSyntax("Expected scheme-specific part");
        this.checkChars(p, q, URIC);
        p = q;
      }
    } else {
      p = this.parseHierarchical(0, n);
    }
    if (this.at(p, n, "#")) {
      this.checkChars(p + 1, n, URIC);
      p = n;
    }
    if (p < n) throw new UriSyntax("end of URI");
  }

  private parseHierarchical(start: number, n: number): number {
    let p = start;
    if (this.at(p, n, "/") && this.at(p + 1, n, "/")) {
      p += 2;
      const q = this.scanStop(p, n, "", "/?#");
      if (q > p) p = this.parseAuthority(p, q);
      // An empty authority is allowed before a path, query or fragment.
      else if (q >= n) throw new UriSyntax("Expected authority");
    }
    let q = this.scanStop(p, n, "", "?#");
    this.checkChars(p, q, PATH);
    p = q;
    if (this.at(p, n, "?")) {
      p++;
      q = this.scanStop(p, n, "", "#");
      this.checkChars(p, q, URIC);
      p = q;
    }
    return p;
  }

  private parseAuthority(start: number, n: number): number {
    const p = start;
    // The JDK's test for "contains an IPv6 literal" holds for any authority not starting with ']'.
    const serverChars =
      this.scanStop(p, n, "", "]") > p ? this.scan(p, n, SERVER_PERCENT) === n : this.scan(p, n, SERVER) === n;
    const regChars = this.scan(p, n, REG_NAME) === n;
    if (regChars && !serverChars) return n;
    let q = p;
    let error: unknown;
    if (serverChars) {
      try {
        q = this.parseServer(p, n);
        if (q < n) throw new UriSyntax("Expected end of authority");
      } catch (e) {
        if (!(e instanceof UriSyntax)) throw e;
        error = e;
        q = p;
      }
    }
    if (q < n) {
      if (regChars) return n;
      throw error ?? new UriSyntax("Illegal character in authority");
    }
    return n;
  }

  private parseServer(start: number, n: number): number {
    let p = start;
    let q = this.scanStop(p, n, "/?#", "@");
    if (q >= p && this.at(q, n, "@")) {
      this.checkChars(p, q, USERINFO);
      p = q + 1;
    }
    if (this.at(p, n, "[")) {
      p++;
      q = this.scanStop(p, n, "/?#", "]");
      if (q > p && this.at(q, n, "]")) {
        const r = this.scanStop(p, q, "", "%");
        if (r > p && r < q) {
          this.parseIPv6Reference(p, r);
          if (r + 1 === q) throw new UriSyntax("scope id expected");
          this.checkChars(r + 1, q, SCOPE_ID);
        } else {
          this.parseIPv6Reference(p, q);
        }
        p = q + 1;
      } else {
        throw new UriSyntax("Expected closing bracket for IPv6 address");
      }
    } else {
      q = this.parseIPv4Address(p, n);
      if (q <= p) q = this.parseHostname(p, n);
      p = q;
    }
    if (this.at(p, n, ":")) {
      p++;
      q = this.scanStop(p, n, "", "/");
      if (q > p) {
        this.checkChars(p, q, DIGIT);
        if (!fitsJavaInt(this.s.slice(p, q))) throw new UriSyntax("Malformed port number");
        p = q;
      }
    }
    if (p < n) throw new UriSyntax("Expected port number");
    return p;
  }

  /** Digits whose value fits in a byte; returns start when they do not. */
  private scanByte(start: number, n: number): number {
    const q = this.scan(start, n, DIGIT);
    if (q <= start) return q;
    const digits = this.s.slice(start, q);
    if (!fitsJavaInt(digits)) throw new NumberFormatError(digits);
    return Number(digits) > 255 ? start : q;
  }

  private scanIPv4Address(start: number, n: number, strict: boolean): number {
    let p = start;
    let q = start;
    const m = this.scan(p, n, DIGIT_DOT);
    if (m <= p || (strict && m !== n)) return -1;
    for (let part = 0; ; part++) {
      if ((q = this.scanByte(p, m)) <= p) break;
      p = q;
      if (part === 3) {
        if (q < m) break;
        return q;
      }
      if ((q = this.scanChar(p, m, ".")) <= p) break;
      p = q;
    }
    throw new UriSyntax("Malformed IPv4 address");
  }

  private takeIPv4Address(start: number, n: number): number {
    const p = this.scanIPv4Address(start, n, true);
    if (p <= start) throw new UriSyntax("Expected IPv4 address");
    return p;
  }

  private parseIPv4Address(start: number, n: number): number {
    let p: number;
    try {
      p = this.scanIPv4Address(start, n, false);
    } catch (e) {
      if (e instanceof UriSyntax || e instanceof NumberFormatError) return -1;
      throw e;
    }
    if (p > start && p < n && this.s[p] !== ":") p = -1;
    return p;
  }

  private parseHostname(start: number, n: number): number {
    let p = start;
    let q: number;
    let last = -1;
    do {
      q = this.scan(p, n, ALPHANUM);
      if (q <= p) break;
      last = p;
      p = q;
      q = this.scan(p, n, ALPHANUM_DASH);
      if (q > p) {
        if (this.s[q - 1] === "-") throw new UriSyntax("Illegal character in hostname");
        p = q;
      }
      q = this.scanChar(p, n, ".");
      if (q <= p) break;
      p = q;
    } while (p < n);
    if (p < n && !this.at(p, n, ":")) throw new UriSyntax("Illegal character in hostname");
    if (last < 0) throw new UriSyntax("Expected hostname");
    if (last > start && !inSet(this.s.charCodeAt(last), ALPHA)) throw new UriSyntax("Illegal character in hostname");
    return p;
  }

  private parseIPv6Reference(start: number, n: number): void {
    let p = start;
    let compressedZeros = false;
    const q = this.scanHexSeq(p, n);
    if (q > p) {
      p = q;
      if (this.atStr(p, n, "::")) {
        compressedZeros = true;
        p = this.scanHexPost(p + 2, n);
      } else if (this.at(p, n, ":")) {
        p = this.takeIPv4Address(p + 1, n);
        this.ipv6ByteCount += 4;
      }
    } else if (this.atStr(p, n, "::")) {
      compressedZeros = true;
      p = this.scanHexPost(p + 2, n);
    }
    if (p < n) throw new UriSyntax("Malformed IPv6 address");
    if (this.ipv6ByteCount > 16) throw new UriSyntax("IPv6 address too long");
    if (!compressedZeros && this.ipv6ByteCount < 16) throw new UriSyntax("IPv6 address too short");
    if (compressedZeros && this.ipv6ByteCount === 16) throw new UriSyntax("Malformed IPv6 address");
  }

  private scanHexPost(start: number, n: number): number {
    let p = start;
    if (p === n) return p;
    const q = this.scanHexSeq(p, n);
    if (q > p) {
      p = q;
      if (this.at(p, n, ":")) {
        p = this.takeIPv4Address(p + 1, n);
        this.ipv6ByteCount += 4;
      }
    } else {
      p = this.takeIPv4Address(p, n);
      this.ipv6ByteCount += 4;
    }
    return p;
  }

  /** A hex sequence; -1 when none, or when it is the start of an IPv4 address. */
  private scanHexSeq(start: number, n: number): number {
    let p = start;
    let q = this.scan(p, n, HEX);
    if (q <= p || this.at(q, n, ".")) return -1;
    if (q > p + 4) throw new UriSyntax("IPv6 hexadecimal digit sequence too long");
    this.ipv6ByteCount += 2;
    p = q;
    while (p < n) {
      if (!this.at(p, n, ":") || this.at(p + 1, n, ":")) break;
      p++;
      q = this.scan(p, n, HEX);
      if (q <= p) throw new UriSyntax("Expected digits for an IPv6 address");
      if (this.at(q, n, ".")) {
        p--;
        break;
      }
      if (q > p + 4) throw new UriSyntax("IPv6 hexadecimal digit sequence too long");
      this.ipv6ByteCount += 2;
      p = q;
    }
    return p;
  }
}

/** java.lang.NumberFormatException escaping `new URI(...)`. */
export class NumberFormatError extends Error {
  constructor(digits: string) {
    super(`java.lang.NumberFormatException: For input string: "${digits.length > 20 ? digits.slice(0, 20) + "…" : digits}"`);
  }
}

/** Integer.parseInt on ASCII digits succeeds. */
function fitsJavaInt(digits: string): boolean {
  const trimmed = digits.replace(/^0+/, "");
  return trimmed.length < 10 || (trimmed.length === 10 && trimmed <= "2147483647");
}

/**
 * Parses like `new java.net.URI(s)`. Returns undefined when `s` is not a URI,
 * else whether it has a scheme (is absolute). Throws NumberFormatError where Java
 * throws NumberFormatException.
 */
export function parseJavaUri(s: string): { absolute: boolean } | undefined {
  const parser = new Parser(s);
  try {
    parser.parse();
  } catch (e) {
    if (e instanceof UriSyntax) return undefined;
    throw e;
  }
  return { absolute: parser.scheme };
}
