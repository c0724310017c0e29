/**
 * Confluent's string helpers and `now`. Expected verdicts are those of the Java
 * client (Confluent BuiltinOverload on commons-validator, java.net.URI and
 * java.util.UUID); cases marked "Java quirk" pin behaviour that looks odd but is
 * what Java does, so contracts give the same verdict in both clients.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { celView, createCelRuntime, isCelFailure } from "../../src/cel/index.js";

const runtime = createCelRuntime();

function check(helper: string, input: string): unknown {
  return runtime.compile(`s.${helper}()`, ["s"]).run({ s: input });
}

type Table = readonly (readonly [input: string, expected: boolean, why?: string])[];

function table(helper: string, rows: Table): void {
  describe(`${helper}()`, () => {
    for (const [input, expected, why] of rows) {
      const label = JSON.stringify(input.length > 60 ? `${input.slice(0, 40)}…(${input.length} chars)` : input);
      test(`${label} -> ${expected}${why ? ` (${why})` : ""}`, () => {
        assert.equal(check(helper, input), expected);
      });
    }
  });
}

table("isEmail", [
  ["a@b.com", true],
  ["john.doe@example.co.uk", true],
  ["user+tag@example.org", true],
  ['"quoted user"@example.com', true, "quoted local part"],
  ["o'brien@example.ie", true, "apostrophe is allowed"],
  ["a@[127.0.0.1]", true, "IPv4 literal"],
  ["a@[2001:db8::1]", true, "IPv6 literal"],
  ["a@com", true, "a bare TLD is accepted (allowTld)"],
  ["a@EXAMPLE.COM", true],
  ["a@bücher.de", true, "IDN domain"],
  ["x".repeat(64) + "@example.com", true, "64-char local part"],
  ["", false, "empty string"],
  ["a.@b.com", false, "Confluent's documented failure"],
  [".a@b.com", false],
  ["a..b@example.com", false],
  ["a@b.com.", false, "trailing dot"],
  ["@b.com", false],
  ["a@", false],
  ["a b@c.com", false],
  ["a@b c.com", false],
  ["a@localhost", false, "local names are not allowed for email"],
  ["a@db.localhost", false, "local TLDs are not allowed for email"],
  ["a@example.notatld", false, "unknown TLD"],
  ["a@-b.com", false],
  ["a@b_c.com", false],
  ["a@[300.1.1.1]", false],
  ["x".repeat(65) + "@example.com", false, "local part over 64 chars"],
  ["a@b@example.com", false],
]);

table("isHostname", [
  ["localhost", true, "Confluent's documented success"],
  ["example.com", true],
  ["a.b.c.example.org", true],
  ["EXAMPLE.COM", true],
  ["example.com.", true, "trailing dot"],
  ["xn--bcher-kva.de", true],
  ["bücher.de", true, "IDN"],
  ["myhost", true, "single label (allowLocal)"],
  ["db.localhost", true, "local TLD (allowLocal)"],
  ["a".repeat(63) + ".com", true, "63-char label"],
  ["", false],
  ["not_a_valid_host_name", false, "Confluent's documented failure: underscore"],
  ["a".repeat(256), false, "Confluent's documented failure: too long"],
  ["a".repeat(64) + ".com", false, "64-char label"],
  ["-example.com", false],
  ["example-.com", false],
  ["example..com", false],
  ["exa mple.com", false],
  ["example.notatld", false, "unknown TLD"],
  ["1.2.3.4", false, "an IP address is not a host name"],
  ["localhost.", false, "a single label takes no trailing dot"],
]);

table("isIpv4", [
  ["127.0.0.1", true],
  ["0.0.0.0", true],
  ["255.255.255.255", true],
  ["", false],
  ["asd", false],
  ["2001:db8:85a3:0:0:8a2e:370:7334", false],
  ["256.1.1.1", false],
  ["01.1.1.1", false, "leading zero"],
  ["1.1.1", false],
  ["1.1.1.1.1", false],
  ["1.1.1.1 ", false],
  ["١.١.١.١", false, "Java's \\d is ASCII only"],
]);

table("isIpv6", [
  ["2001:db8:85a3:0:0:8a2e:370:7334", true],
  ["::1", true],
  ["::", true],
  ["1:2:3:4:5:6:7:8", true],
  ["::ffff:192.168.1.1", true, "embedded IPv4"],
  ["fe80::1%eth0", true, "zone id"],
  ["2001:db8::/32", true, "prefix length"],
  ["+1::", true, "Java quirk: Integer.parseInt accepts a sign"],
  ["", false],
  ["asd", false],
  ["127.0.0.1", false],
  ["1:2:3:4:5:6:7:8:9", false],
  ["1::2::3", false],
  ["12345::", false],
  [":1:2:3:4:5:6:7", false],
  ["1:2:3:4:5:6:7", false, "too short without ::"],
  ["2001:db8::/129", false],
  ["fe80::1%", false],
  ["gggg::", false],
]);

table("isUri", [
  ["http://example.org:8080/example.html", true, "Confluent's documented success"],
  ["mailto:a@b.com", true, "opaque URI"],
  ["urn:isbn:0451450523", true],
  ["file:///etc/hosts", true, "empty authority"],
  ["http://[::1]:80/", true],
  ["http://user@host/p?q=1#f", true],
  ["http://例子.测试/", true, "non-ASCII host parses as a registry authority"],
  ["http://a_b.com/", true, "Java quirk: falls back to a registry authority"],
  ["", false],
  ["12 34", false, "Confluent's documented failure"],
  ["//example.com", false, "Confluent's documented failure: relative"],
  ["abc", false, "Confluent's documented failure: relative"],
  ["/abc", false],
  ["http://exa mple.com", false],
  ["http://example.com/%zz", false, "malformed escape"],
  ["1http://x", false, "a scheme starts with a letter"],
  [":foo", false],
  ["http://[::1/", false],
]);

table("isUriRef", [
  ["http://foo.bar/?baz=qux#quux", true, "Confluent's documented success"],
  ["//foo.bar/?baz=qux#quux", true, "Confluent's documented success"],
  ["/abc", true, "Confluent's documented success"],
  ["abc", true],
  ["#frag", true],
  ["?q=1", true],
  ["", false],
  ["\\\\WINDOWS\\fileshare", false, "Confluent's documented failure"],
  ["a b", false],
  ["http://", false, "expected authority"],
]);

table("isUuid", [
  ["fa02a430-892f-4160-97cd-6e3d1bc14494", true, "Confluent's documented success"],
  ["FA02A430-892F-4160-97CD-6E3D1BC14494", true],
  ["1-1-1-1-1", true, "Java quirk: UUID.fromString takes short groups"],
  ["+a-b-c-d-e", true, "Java quirk: Long.parseLong accepts a sign"],
  ["", false],
  ["97cd-6e3d1bc14494", false, "Confluent's documented failure"],
  ["fa02a430-892f-4160-97cd-6e3d1bc144944", false, "37 chars"],
  ["fa02a430892f416097cd6e3d1bc14494", false, "no dashes"],
  ["g-1-1-1-1", false],
  ["1-1-1-1-1-1", false],
  ["1--1-1-1", false, "empty group"],
  ["fffffffffffffffff-1-1-1-1", false, "group overflows a long"],
]);

describe("helper edge cases", () => {
  test("a Java NumberFormatException inside java.net.URI is an error, not false", () => {
    const r = check("isUri", "http://[::99999999999.1.1.1]/");
    assert.ok(isCelFailure(r), `expected a failure, got ${String(r)}`);
    assert.match(r.message, /NumberFormatException/);
  });
  test("helpers are methods on strings only", () => {
    assert.throws(() => runtime.compile("isEmail('a@b.com')", []), /isEmail\(\) is a method: call it as x\.isEmail\(\)/);
    const r = runtime.compile("x.isEmail()", ["x"]).run({ x: 5n });
    assert.ok(isCelFailure(r));
  });
});

describe("now", () => {
  test("is a timestamp read from the clock once per evaluation", () => {
    let calls = 0;
    let ms = 1_700_000_000_123;
    const rt = createCelRuntime({
      clock: () => {
        calls++;
        return ms;
      },
    });
    const program = rt.compile("now == timestamp('2023-11-14T22:13:20.123Z') && now == now && type(now) == google.protobuf.Timestamp", []);
    assert.equal(program.run({}), true);
    assert.equal(calls, 1, "read once although used four times");
    ms += 1000;
    assert.equal(program.run({}), false, "the next evaluation reads the clock again");
    assert.equal(calls, 2);
  });
  test("is not read by programs that do not use it", () => {
    let calls = 0;
    const rt = createCelRuntime({ clock: () => ++calls });
    assert.equal(rt.compile("message.a == 1", ["message"]).run({ message: new Map([["a", 1n]]) }), true);
    assert.equal(calls, 0);
  });
  test("works with views and other variables", () => {
    const shape = { kind: "record", name: "R", fields: new Map([["ts", { kind: "timestamp", native: "millis" } as const]]) } as const;
    const rt = createCelRuntime({ clock: () => Date.UTC(2024, 0, 2) });
    const program = rt.compile("message.ts < now && now - message.ts == duration('24h')", ["message"]);
    assert.equal(program.run({ message: celView({ ts: Date.UTC(2024, 0, 1) }, shape) }), true);
  });
  test("a declared variable named now takes precedence", () => {
    const rt = createCelRuntime({ clock: () => 0 });
    assert.equal(rt.compile("now == 5", ["now"]).run({ now: 5n }), true);
  });
  test("defaults to the system clock", () => {
    const before = Date.now();
    const r = createCelRuntime().compile("int(now)", []).run({});
    assert.equal(typeof r, "bigint");
    assert.ok(Number(r) >= Math.floor(before / 1000) && Number(r) <= Math.ceil(Date.now() / 1000));
  });
});
