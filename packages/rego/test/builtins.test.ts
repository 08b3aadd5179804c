// The built-ins of issue 19, by OPA's documented behaviour: texts of errors, the new families and
// the choices where OPA and regorus differ. The OPA conformance run covers them case by case;
// these pin the behaviour a change must not lose, including the error codes and modes.
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { builtinNames } from "../src/builtins/index.js";
import { Policy } from "../src/engine.js";
import { RegoError } from "../src/errors.js";

const NOW = 1_767_225_600_000_000_000; // 2026-01-01T00:00:00Z

/** The value of `x` in a query, strict unless told otherwise. */
function value(expr: string, options: { strict?: boolean; input?: unknown; v1?: boolean } = {}): unknown {
  const p = Policy.compile("package t", options.v1 === false ? {} : { v1: true });
  const rs = p.query(`x := ${expr}`, {
    strict: options.strict ?? true,
    nowNs: NOW,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  return rs.length === 0 ? undefined : rs[0]?.bindings.x;
}

/** The error a strict evaluation of `expr` raises. */
function failure(expr: string, input?: unknown): RegoError {
  try {
    value(expr, { input });
  } catch (e) {
    if (e instanceof RegoError) return e;
    throw e;
  }
  throw new Error(`${expr} did not fail`);
}

describe("built-in errors", () => {
  it("word operand type errors as OPA and keep regorus' wording after them", () => {
    const e = failure("array.concat(input.o, [])", { o: { a: 1 } });
    expect(e.code).toBe("REGO_BUILTIN_ERROR");
    expect(e.message).toContain("array.concat: operand 1 must be array but got object");
    expect(e.message).toContain("`array.concat` expects array argument.");
    expect(e.details?.opaCode).toBe("eval_type_error");
  });

  it("name the alternatives, the element type and fractions", () => {
    expect(failure("count(input.n)", { n: 5 }).message).toContain(
      "count: operand 1 must be one of {array, object, set, string} but got number",
    );
    expect(failure('concat(",", input.xs)', { xs: ["a", 1] }).message).toContain(
      "concat: operand 2 must be array of strings but got array containing number",
    );
    expect(failure("bits.and(input.f, 1)", { f: 7.5 }).message).toContain(
      "bits.and: operand 1 must be integer number but got floating-point number",
    );
    expect(failure("input.s - 1", { s: "a" }).message).toContain(
      "minus: operand 1 must be one of {number, set} but got string",
    );
  });

  it("class other failures as built-in errors, undefined in non-strict mode", () => {
    const e = failure("input.a / 0", { a: 1 });
    expect(e.message).toContain("div: divide by zero");
    expect(e.details?.opaCode).toBe("eval_builtin_error");
    expect(value("input.a / 0", { input: { a: 1 }, strict: false })).toBeUndefined();
  });
});

describe("units", () => {
  it("parse scientific notation and OPA's units, and regorus' other SI prefixes", () => {
    expect(value('units.parse("2.5e3K")')).toBe(2_500_000);
    expect(value('units.parse("500m")')).toBe(0.5);
    expect(value('units.parse("1Ki")')).toBe(1024);
    expect(value('units.parse("1n")')).toBe(1e-9);
    expect(value('units.parse_bytes("1e3KB")')).toBe(1_000_000);
    expect(value('units.parse_bytes("1.5KiB")')).toBe(1536);
  });

  it("raise where OPA raises", () => {
    expect(failure('units.parse("1mb")').message).toContain("units.parse: unit mb not recognized");
    expect(failure('units.parse("K")').message).toContain("units.parse: no amount provided");
    expect(failure('units.parse("1e1234567")').message).toContain("units.parse: exponent too large");
    expect(failure('units.parse_bytes("1 KB")').message).toContain("spaces not allowed in resource strings");
    expect(failure('units.parse_bytes("1..2KB")').message).toContain("could not parse byte amount to a number");
  });
});

describe("time", () => {
  it("keeps to OPA's int64 nanoseconds", () => {
    expect(failure("time.date(1e19)").message).toContain("time.date: timestamp too big");
    expect(failure("time.clock(1.5)").message).toContain("timestamp too big");
    expect(failure('time.parse_rfc3339_ns("2262-04-11T23:47:16.854775808Z")').message).toContain(
      "time outside of valid range",
    );
    expect(failure("time.add_date(0, 300, 0, 0)").message).toContain("time.add_date: time outside of valid range");
    expect(value('time.parse_rfc3339_ns("1677-09-21T00:12:43.145224192Z")')).toBe(-(2 ** 63));
  });

  it("takes Go's named layouts, fractions after seconds and day, week and year durations", () => {
    expect(value('time.parse_ns("RFC822Z", "02 Jun 17 19:00 -0700")')).toBe(1_496_455_200_000_000_000);
    expect(value('time.parse_ns("2006-01-02T15:04:05Z07:00", "1970-01-01T00:00:01.5Z")')).toBe(1_500_000_000);
    expect(value('time.parse_duration_ns("1d2h")')).toBe(93_600_000_000_000);
    expect(value('time.parse_duration_ns("1w")')).toBe(604_800_000_000_000);
    expect(value('time.format([0, "UTC", "RFC1123Z"])')).toBe("Thu, 01 Jan 1970 00:00:00 +0000");
  });

  it("diffs in the first time's zone, borrowing the earlier month's days", () => {
    // 2024-02-29 to 2025-03-01: one year, one day (February 2024 has 29 days).
    const a = Date.UTC(2024, 1, 29) * 1e6;
    const b = Date.UTC(2025, 2, 1) * 1e6;
    expect(value(`time.diff(${a}, ${b})`)).toEqual([1, 0, 1, 0, 0, 0]);
  });
});

describe("strings, collections, graphs", () => {
  it("split_n keeps the first n or the last -n parts", () => {
    expect(value('strings.split_n("a,b,c,d", ",", 2)')).toEqual(["a", "b"]);
    expect(value('strings.split_n("a,b,c,d", ",", -2)')).toEqual(["c", "d"]);
    expect(value('strings.split_n("a,b", ",", 0)')).toEqual([]);
  });

  it("flattens one level and reaches through graphs", () => {
    expect(value("array.flatten([1, [2, [3]], []])")).toEqual([1, 2, [3]]);
    const g = '{"a": ["b"], "b": ["c", "a"], "c": [], "d": ["a"]}';
    expect(value(`graph.reachable(${g}, {"a"})`)).toEqual(["a", "b", "c"]);
    expect(value(`graph.reachable_paths(${g}, {"d"})`)).toEqual([
      ["d", "a", "b"],
      ["d", "a", "b", "c"],
    ]);
  });

  it("object.subset recurses into nested sets and arrays", () => {
    expect(value('object.subset({"a": {1, 2, 3}, "b": [1, 2, 3]}, {"a": {2}, "b": [2, 3]})')).toBe(true);
    expect(value('object.subset({"a": [1, 2, 3]}, {"a": [1, 3]})')).toBe(false);
  });

  it("glob intersections and regex templates", () => {
    expect(value('regex.globs_match("a.a.[0-9]+z", ".b.b2359825792*594823z")')).toBe(true);
    expect(value('regex.globs_match("[a-z]*", "[0-9]*")')).toBe(true); // both match ""
    expect(value('regex.globs_match("[a-z]+", "[0-9]+")')).toBe(false);
    expect(failure('regex.globs_match("pqrs]", "a")').message).toContain("set-close ']' with no preceding '['");
    expect(value('regex.template_match("urn:foo:{.*}", "urn:foo:bar:baz", "{", "}")')).toBe(true);
    expect(value('regex.template_match("urn:foo.{[a-z]+}", "urn:fooXbar", "{", "}")')).toBe(false);
    expect(failure('regex.match("][", "x")').message).toContain("error parsing regexp: missing closing ]: `[`");
  });
});

describe("encodings", () => {
  it("parse URIs with Go's rules", () => {
    expect(value('uri.parse("https://example.com:8080/a%21b?q=1#top")')).toEqual({
      fragment: "top",
      hostname: "example.com",
      path: "/a!b",
      port: "8080",
      raw_path: "/a!b",
      raw_query: "q=1",
      scheme: "https",
    });
    expect(value('uri.parse("https://example.com/a%2Fb")')).toMatchObject({ path: "/a/b", raw_path: "/a%2Fb" });
    expect(failure('uri.parse("http://exa%6dple.com/")').message).toContain('invalid URL escape "%6d"');
    expect(value('uri.is_valid("http://a<b@example.com/")')).toBe(false);
  });

  it("encode and decode query objects as Go", () => {
    expect(value('urlquery.encode_object({"b": ["x y", "!"], "a": "1"})')).toBe("a=1&b=x+y&b=%21");
    expect(value('urlquery.decode_object("a=1&b=2&a=3")')).toEqual({ a: ["1", "3"], b: ["2"] });
    expect(failure('urlquery.decode("%zz")').message).toContain('invalid URL escape "%zz"');
  });

  it("marshals JSON with options and YAML both ways", () => {
    expect(value('json.marshal_with_options({"a": [1]}, {"indent": "  "})')).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(value('json.marshal_with_options([1], {"pretty": false, "indent": "x"})')).toBe("[1]");
    expect(failure('json.marshal_with_options(1, {"bad": 1})').message).toContain('object contained unknown key "bad"');
    expect(value('yaml.unmarshal(yaml.marshal({"a": {1, 2}, "b": "yes"}))')).toEqual({ a: [1, 2], b: "yes" });
    expect(value('yaml.is_valid("a: {")')).toBe(false);
    expect(failure('yaml.unmarshal("[1,2,3")').message).toContain("yaml: line 1: did not find expected ',' or ']'");
  });

  it("validates JSON Schema", () => {
    expect(value('json.verify_schema({"type": "boolean"})')).toEqual([true, null]);
    expect(value('json.verify_schema({"type": "nope"})')).toEqual([
      false,
      "jsonschema: has a primitive type that is NOT VALID -- given: /nope/ Expected valid values are:[array boolean integer number null object string]",
    ]);
    expect(
      value('json.match_schema({"id": "x"}, {"properties": {"id": {"type": "integer"}}, "required": ["id", "n"]})'),
    ).toEqual([
      false,
      [
        { desc: "n is required", error: "(root): n is required", field: "(root)", type: "required" },
        {
          desc: "Invalid type. Expected: integer, given: string",
          error: "id: Invalid type. Expected: integer, given: string",
          field: "id",
          type: "invalid_type",
        },
      ],
    ]);
  });
});

describe("crypto, JWT, CIDRs", () => {
  it("hashes and HMACs", () => {
    expect(value('crypto.md5("abc")')).toBe("900150983cd24fb0d6963f7d28e17f72");
    expect(value('crypto.sha1("abc")')).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    // RFC 4231, test case 2.
    expect(value('crypto.hmac.sha256("what do ya want for nothing?", "Jefe")')).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
    expect(value('crypto.hmac.equal("abc", "abc")')).toBe(true);
    expect(value('crypto.hmac.equal("abc", "abd")')).toBe(false);
  });

  it("signs, decodes and verifies HS256 tokens under constraints", () => {
    const key = '{"kty": "oct", "k": "c2VjcmV0"}'; // "secret"
    const token = value(`io.jwt.encode_sign({"alg": "HS256", "typ": "JWT"}, {"iss": "me", "exp": 1800000000}, ${key})`);
    expect(typeof token).toBe("string");
    expect(value(`io.jwt.verify_hs256("${token}", "secret")`)).toBe(true);
    expect(value(`io.jwt.verify_hs256("${token}", "other")`)).toBe(false);
    expect(value(`io.jwt.decode("${token}")[1]`)).toEqual({ exp: 1800000000, iss: "me" });
    const ok = value(`io.jwt.decode_verify("${token}", {"secret": "secret", "iss": "me"})`) as unknown[];
    expect(ok[0]).toBe(true);
    // Expired at the given time (seconds 1.9e9 > exp), and a wrong issuer.
    expect((value(`io.jwt.decode_verify("${token}", {"secret": "secret", "time": 1.9e18})`) as unknown[])[0]).toBe(
      false,
    );
    expect((value(`io.jwt.decode_verify("${token}", {"secret": "secret", "iss": "you"})`) as unknown[])[0]).toBe(false);
    expect(failure('io.jwt.decode("a.b")').message).toContain("encoded JWT must have 3 sections, found 2");
  });

  it("verifies RS256 and ES256 with PEM keys and JWKs", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = JSON.stringify(rsa.privateKey.export({ format: "jwk" }));
    const token = value(`io.jwt.encode_sign({"alg": "RS256"}, {"a": 1}, ${jwk})`) as string;
    const pem = rsa.publicKey.export({ format: "pem", type: "spki" }) as string;
    expect(value("io.jwt.verify_rs256(input.t, input.k)", { input: { t: token, k: pem } })).toBe(true);
    const pub = JSON.stringify({ keys: [rsa.publicKey.export({ format: "jwk" })] });
    expect(value("io.jwt.verify_rs256(input.t, input.k)", { input: { t: token, k: pub } })).toBe(true);
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const ecPem = other.publicKey.export({ format: "pem", type: "spki" }) as string;
    expect(value("io.jwt.verify_rs256(input.t, input.k)", { input: { t: token, k: ecPem } })).toBe(false);
    const ecJwk = JSON.stringify(other.privateKey.export({ format: "jwk" }));
    const ecToken = value(`io.jwt.encode_sign({"alg": "ES256"}, {"a": 1}, ${ecJwk})`) as string;
    expect(value("io.jwt.verify_es256(input.t, input.k)", { input: { t: ecToken, k: ecPem } })).toBe(true);
  });

  it("gives a PEM private key as a JWK", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const pem = rsa.privateKey.export({ format: "pem", type: "pkcs1" }) as string;
    const want = rsa.privateKey.export({ format: "jwk" });
    expect(value("crypto.x509.parse_rsa_private_key(input)", { input: pem })).toEqual(want);
    const b64 = Buffer.from(pem).toString("base64");
    expect(value("crypto.x509.parse_rsa_private_key(input)", { input: b64 })).toEqual(want);
    expect(failure('crypto.x509.parse_rsa_private_key("invalid")').message).toContain("illegal base64");
  });

  it("CIDRs with Go's address syntax", () => {
    expect(value('net.cidr_contains("10.0.0.0/8", "10.1.2.3")')).toBe(true);
    expect(value('net.cidr_contains("10.0.0.0/8", "10.1.0.0/16")')).toBe(true);
    expect(value('net.cidr_contains("2001:db8::/32", "2001:db8:1::1")')).toBe(true);
    expect(value('net.cidr_intersects("192.168.0.0/23", "192.168.1.0/24")')).toBe(true);
    expect(value('net.cidr_expand("192.168.1.0/31")')).toEqual(["192.168.1.0", "192.168.1.1"]);
    expect(
      value(
        'net.cidr_merge(["192.0.2.112/30", "192.0.2.116/31", "192.0.2.118/31", "2001:db8::/33", "2001:db8:8000::/33"])',
      ),
    ).toEqual(["192.0.2.112/29", "2001:db8::/32"]);
    expect(value('net.cidr_is_valid("192.168.1.1/33")')).toBe(false);
    expect(failure('net.cidr_contains("10.0.0.0/33", "10.0.0.1")').message).toContain(
      "invalid CIDR address: 10.0.0.0/33",
    );
  });
});

describe("refused and deprecated built-ins", () => {
  it("refuses http.send but lets tests mock it", () => {
    const e = failure('http.send({"method": "GET", "url": "http://127.0.0.1"})');
    expect(e.code).toBe("REGO_UNKNOWN_FUNCTION");
    expect(e.message).toContain("unknown builtin http.send");
    expect(failure('http.send({"method": "GET"})').message).toContain(
      'missing required request parameters(s): {"url"}',
    );
    const p = Policy.compile(
      'package t\nmock(_) := {"body": "ok"}\nr := http.send({"method": "GET", "url": "x"}).body\nt := x if { x := r with http.send as mock }',
      { v1: true },
    );
    expect(p.evalRule("data.t.t")).toBe("ok");
  });

  it("keeps OPA's deprecated built-ins out of Rego v1", () => {
    const v0 = Policy.compile("package t\na := any([false, true])\nc := cast_array({2, 1})");
    expect(v0.evalRule("data.t")).toEqual({ a: true, c: [1, 2] });
    const v1 = Policy.compile("package t\na := any([false, true])", { v1: true });
    expect(() => v1.evalRule("data.t.a")).toThrow(/could not find function any/);
  });

  it("lists every family's built-ins", () => {
    const names = new Set(builtinNames());
    for (const n of [
      "strings.split_n",
      "uri.parse",
      "graph.reachable_paths",
      "yaml.marshal",
      "io.jwt.decode_verify",
      "net.cidr_merge",
      "json.match_schema",
      "http.send",
    ]) {
      expect(names.has(n), n).toBe(true);
    }
  });
});
