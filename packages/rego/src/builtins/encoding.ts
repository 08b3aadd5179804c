import {
  ContrastError,
  fromBase64,
  fromBase64Url,
  fromHex,
  fromUtf8,
  parseJson,
  toBase64,
  toBase64Url,
  toHex,
  utf8,
} from "@contrast/core";
import { BuiltinError } from "../errors.js";
import { fromJson, type Value } from "../values.js";
import { toJsonIndent, toJsonText } from "./json.js";
import { type BuiltinTable, fail, failOperand, object, str } from "./registry.js";

/** Runs a core decoder; its typed error becomes a built-in error (undefined in non-strict mode). */
function decode<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BuiltinError) throw e;
    if (e instanceof ContrastError) fail(`${name}: ${e.message}`);
    throw e;
  }
}

function padBase64Url(s: string): string {
  return s.replace(/=+$/, "");
}

export const ENCODING_BUILTINS: BuiltinTable = {
  "base64.encode": { arity: 1, fn: (a) => toBase64(utf8(str("base64.encode", a, 0))) },
  "base64.decode": {
    arity: 1,
    fn: (a) => decode("base64.decode", () => fromUtf8(fromBase64(str("base64.decode", a, 0)))),
  },
  "base64.is_valid": {
    arity: 1,
    fn: (a) => {
      try {
        fromBase64(str("base64.is_valid", a, 0));
        return true;
      } catch (e) {
        if (e instanceof ContrastError) return false;
        throw e;
      }
    },
  },
  "base64url.encode": {
    arity: 1,
    fn: (a) => {
      const s = toBase64Url(utf8(str("base64url.encode", a, 0)));
      return s + "=".repeat((4 - (s.length % 4)) % 4);
    },
  },
  "base64url.encode_no_pad": { arity: 1, fn: (a) => toBase64Url(utf8(str("base64url.encode_no_pad", a, 0))) },
  "base64url.decode": {
    arity: 1,
    fn: (a) => decode("base64url.decode", () => fromUtf8(fromBase64Url(padBase64Url(str("base64url.decode", a, 0))))),
  },
  "hex.encode": { arity: 1, fn: (a) => toHex(utf8(str("hex.encode", a, 0))) },
  "hex.decode": {
    arity: 1,
    fn: (a) => {
      const s = str("hex.decode", a, 0);
      // Go's encoding/hex messages: the first bad character, else an odd length.
      const bad = /[^0-9a-fA-F]/u.exec(s)?.[0];
      if (bad !== undefined) {
        const cp = (bad.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0");
        fail(`hex.decode: encoding/hex: invalid byte: U+${cp} '${bad}'`);
      }
      if (s.length % 2 !== 0) fail("hex.decode: encoding/hex: odd length hex string");
      return decode("hex.decode", () => fromUtf8(fromHex(s)));
    },
  },
  "json.marshal": { arity: 1, fn: (a) => toJsonText(a[0] as Value) },
  "json.marshal_with_options": {
    arity: 2,
    fn: (a) => {
      const opts = object("json.marshal_with_options", a, 1);
      let prefix = "";
      let indent = "\t";
      let pretty: boolean | undefined;
      let implied = false;
      for (const [k, v] of opts.entries()) {
        if (k === "prefix" || k === "indent") {
          if (typeof v !== "string") failOperand("json.marshal_with_options", 2, `key ${k} failed cast to string`);
          if (k === "prefix") prefix = v;
          else indent = v;
          implied = true;
        } else if (k === "pretty") {
          if (typeof v !== "boolean") failOperand("json.marshal_with_options", 2, `key ${k} failed cast to bool`);
          pretty = v;
        } else {
          failOperand("json.marshal_with_options", 2, `object contained unknown key ${toJsonText(k)}`);
        }
      }
      const v = a[0] as Value;
      // Explicit `pretty` wins; otherwise a prefix or an indent asks for it. Go's MarshalIndent
      // does not prefix the first line; OPA adds it.
      return (pretty ?? implied) ? prefix + toJsonIndent(v, prefix, indent) : toJsonText(v);
    },
  },
  "json.unmarshal": {
    arity: 1,
    fn: (a) => decode("json.unmarshal", () => fromJson(parseJson(str("json.unmarshal", a, 0)))),
  },
  "json.is_valid": {
    arity: 1,
    fn: (a) => {
      const s = a[0];
      if (typeof s !== "string") return false;
      try {
        parseJson(s);
        return true;
      } catch (e) {
        if (e instanceof ContrastError) return false;
        throw e;
      }
    },
  },
};
