import { ObjectBuilder, RObject, RSet, type Value } from "../values.js";
import { type BuiltinTable, fail, failOperand, failType, str } from "./registry.js";

// URL built-ins with Go's net/url rules, which OPA's results and messages follow: which bytes are
// escaped, when a `%` escape is invalid, what a host and a port may hold.

type Mode = "path" | "host" | "query" | "fragment" | "user";

const UNRESERVED = /[A-Za-z0-9\-_.~]/;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Whether Go's url escaping escapes this ASCII character in the mode (net/url shouldEscape). */
function shouldEscape(c: string, mode: Mode): boolean {
  if (UNRESERVED.test(c)) return false;
  if (mode === "host") return !"!$&'()*+,;=:[]<>\"".includes(c);
  if ("$&+,/:;=?@".includes(c)) {
    if (mode === "path") return c === "?";
    if (mode === "user") return c === "@" || c === "/" || c === "?" || c === ":";
    if (mode === "query") return true;
    if (mode === "fragment") return false;
  }
  if (mode === "fragment" && "!()*".includes(c)) return false;
  return true;
}

function urlEscape(s: string, mode: Mode): string {
  let out = "";
  for (const b of utf8.encode(s)) {
    const c = String.fromCharCode(b);
    if (b < 0x80 && !shouldEscape(c, mode)) out += c;
    else if (c === " " && mode === "query") out += "+";
    else out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** Go's url unescape: an invalid `%` escape is an error naming it, as Go's EscapeError does. */
function urlUnescape(s: string, mode: Mode): string {
  if (!s.includes("%") && !(mode === "query" && s.includes("+")) && mode !== "host") return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "%") {
      if (!isHex(s[i + 1]) || !isHex(s[i + 2])) throw new UrlError(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      // A host may only escape non-ASCII bytes (and %25), as Go requires.
      if (mode === "host" && Number.parseInt(s[i + 1] as string, 16) < 8 && s.slice(i, i + 3) !== "%25") {
        throw new UrlError(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      }
      bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === "+" && mode === "query") {
      bytes.push(0x20);
    } else {
      if (mode === "host" && c.charCodeAt(0) < 0x80 && shouldEscape(c, "host")) {
        throw new UrlError(`invalid character ${goQuote(c)} in host name`);
      }
      for (const b of utf8.encode(c)) bytes.push(b);
    }
  }
  return fromUtf8.decode(new Uint8Array(bytes));
}

/** Go's %q for the texts in these messages (printable text stays as it is). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

class UrlError extends Error {}

interface ParsedUrl {
  scheme: string;
  opaque: string;
  host: string;
  path: string;
  rawPath: string;
  rawQuery: string;
  fragment: string;
}

const validPort = (p: string): boolean => p === "" || /^:[0-9]*$/.test(p);

function parseHost(host: string): string {
  if (host.startsWith("[")) {
    const i = host.lastIndexOf("]");
    if (i < 0) throw new UrlError("missing ']' in host");
    const colonPort = host.slice(i + 1);
    if (!validPort(colonPort)) throw new UrlError(`invalid port ${goQuote(colonPort)} after host`);
  } else {
    const i = host.lastIndexOf(":");
    if (i >= 0 && !validPort(host.slice(i))) throw new UrlError(`invalid port ${goQuote(host.slice(i))} after host`);
  }
  return urlUnescape(host, "host");
}

function validUserinfo(s: string): boolean {
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);
}

function parseAuthority(authority: string): string {
  const at = authority.lastIndexOf("@");
  const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    if (!validUserinfo(userinfo)) throw new UrlError("net/url: invalid userinfo");
    urlUnescape(userinfo, "user");
  }
  return host;
}

/** Go's url.Parse (the parts OPA reports). */
function parseUrl(raw: string): ParsedUrl {
  const hash = raw.indexOf("#");
  const u = hash < 0 ? raw : raw.slice(0, hash);
  const frag = hash < 0 ? "" : raw.slice(hash + 1);
  const out: ParsedUrl = { scheme: "", opaque: "", host: "", path: "", rawPath: "", rawQuery: "", fragment: "" };
  try {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: Go refuses control characters in URLs.
    if (/[\u0000-\u001f\u007f]/.test(u)) throw new UrlError("net/url: invalid control character in URL");
    let rest = u;
    if (u !== "*") {
      const m = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(u);
      if (u.startsWith(":")) throw new UrlError("missing protocol scheme");
      if (m !== null) {
        out.scheme = (m[1] as string).toLowerCase();
        rest = u.slice(m[0].length);
      }
      if (rest.endsWith("?") && rest.indexOf("?") === rest.length - 1) rest = rest.slice(0, -1);
      else {
        const q = rest.indexOf("?");
        if (q >= 0) {
          out.rawQuery = rest.slice(q + 1);
          rest = rest.slice(0, q);
        }
      }
      if (!rest.startsWith("/")) {
        if (out.scheme !== "") {
          out.opaque = rest;
          rest = "";
        } else {
          const slash = rest.indexOf("/");
          if ((slash < 0 ? rest : rest.slice(0, slash)).includes(":")) {
            throw new UrlError("first path segment in URL cannot contain colon");
          }
        }
      }
      if (out.opaque === "" && (out.scheme !== "" || !rest.startsWith("///")) && rest.startsWith("//")) {
        let authority = rest.slice(2);
        rest = "";
        const slash = authority.indexOf("/");
        if (slash >= 0) {
          rest = authority.slice(slash);
          authority = authority.slice(0, slash);
        }
        out.host = parseAuthority(authority);
      }
      out.path = urlUnescape(rest, "path");
      out.rawPath = urlEscape(out.path, "path") === rest ? "" : rest;
    } else out.path = "*";
  } catch (e) {
    if (e instanceof UrlError) throw new UrlError(`parse ${goQuote(u)}: ${e.message}`);
    throw e;
  }
  if (frag !== "") {
    try {
      out.fragment = urlUnescape(frag, "fragment");
    } catch (e) {
      if (e instanceof UrlError) throw new UrlError(`parse ${goQuote(raw)}: ${e.message}`);
      throw e;
    }
  }
  return out;
}

/** What a signed request needs of a URL (Go's u.Host, u.EscapedPath(), u.RawQuery). */
export function requestUrl(name: string, raw: string): { host: string; escapedPath: string; rawQuery: string } {
  try {
    const u = parseUrl(raw);
    const escapedPath = u.rawPath !== "" ? u.rawPath : u.path === "*" ? "*" : urlEscape(u.path, "path");
    return { host: u.host, escapedPath, rawQuery: u.rawQuery };
  } catch (e) {
    if (e instanceof UrlError) fail(`${name}: ${e.message}`);
    throw e;
  }
}

/** Hostname and port of a Go URL's host (brackets of an IPv6 literal dropped). */
function hostPort(host: string): { hostname: string; port: string } {
  let hostname = host;
  let port = "";
  const colon = host.lastIndexOf(":");
  if (colon >= 0 && validPort(host.slice(colon)) && (!host.startsWith("[") || host.lastIndexOf("]") < colon)) {
    hostname = host.slice(0, colon);
    port = host.slice(colon + 1);
  }
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  return { hostname, port };
}

function uriParse(s: string): Value {
  let u: ParsedUrl;
  try {
    u = parseUrl(s);
  } catch (e) {
    if (e instanceof UrlError) fail(`uri.parse: ${e.message}`);
    throw e;
  }
  const out = new ObjectBuilder();
  if (u.scheme !== "") out.set("scheme", u.scheme);
  const { hostname, port } = hostPort(u.host);
  if (hostname !== "") out.set("hostname", hostname);
  if (port !== "") out.set("port", port);
  if (u.path !== "") {
    out.set("path", u.path);
    out.set("raw_path", u.rawPath === "" ? u.path : u.rawPath);
  }
  if (u.rawQuery !== "") out.set("raw_query", u.rawQuery);
  if (u.fragment !== "") out.set("fragment", u.fragment);
  return out.build();
}

function queryUnescape(name: string, s: string): string {
  try {
    return urlUnescape(s, "query");
  } catch (e) {
    if (e instanceof UrlError) fail(`${name}: ${e.message}`);
    throw e;
  }
}

/** Go's url.ParseQuery: `&`-separated pairs, a `;` is an error, values per key in order. */
function decodeObject(s: string): RObject {
  const m = new Map<string, string[]>();
  for (const part of s.split("&")) {
    if (part === "") continue;
    if (part.includes(";")) fail("urlquery.decode_object: invalid semicolon separator in query");
    const eq = part.indexOf("=");
    const k = queryUnescape("urlquery.decode_object", eq < 0 ? part : part.slice(0, eq));
    const v = queryUnescape("urlquery.decode_object", eq < 0 ? "" : part.slice(eq + 1));
    const list = m.get(k);
    if (list === undefined) m.set(k, [v]);
    else list.push(v);
  }
  const out = new ObjectBuilder();
  for (const [k, vs] of m) out.set(k, vs);
  return out.build();
}

function encodeObject(v: Value): string {
  if (!(v instanceof RObject)) return failType("urlquery.encode_object", 1, "object", v);
  const pairs: [string, string][] = [];
  const bad = () => failOperand("urlquery.encode_object", 1, "values must be string, array[string], or set[string]");
  for (const [k, x] of v.entries()) {
    if (typeof k !== "string") return bad();
    if (typeof x === "string") pairs.push([k, x]);
    else if (Array.isArray(x) || x instanceof RSet) {
      for (const s of Array.isArray(x) ? (x as readonly Value[]) : x.values()) {
        if (typeof s !== "string") return bad();
        pairs.push([k, s]);
      }
    } else return bad();
  }
  // Go's url.Values.Encode: keys sorted (the entries are), values in order.
  return pairs.map(([k, x]) => `${urlEscape(k, "query")}=${urlEscape(x, "query")}`).join("&");
}

export const URL_BUILTINS: BuiltinTable = {
  "urlquery.encode": { arity: 1, fn: (a) => urlEscape(str("urlquery.encode", a, 0), "query") },
  "urlquery.decode": { arity: 1, fn: (a) => queryUnescape("urlquery.decode", str("urlquery.decode", a, 0)) },
  "urlquery.encode_object": { arity: 1, fn: (a) => encodeObject(a[0] as Value) },
  "urlquery.decode_object": { arity: 1, fn: (a) => decodeObject(str("urlquery.decode_object", a, 0)) },
  "uri.parse": { arity: 1, fn: (a) => uriParse(str("uri.parse", a, 0)) },
  "uri.is_valid": {
    arity: 1,
    fn: (a) => {
      const s = a[0];
      if (typeof s !== "string" || s === "") return false;
      try {
        parseUrl(s);
        return true;
      } catch (e) {
        if (e instanceof UrlError) return false;
        throw e;
      }
    },
  },
};
