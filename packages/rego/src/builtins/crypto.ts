import { createHash, createHmac, createPrivateKey, timingSafeEqual } from "node:crypto";
import { fromJson, type Value } from "../values.js";
import { type BuiltinTable, fail, str } from "./registry.js";

// Hashes and HMACs of a string's UTF-8 bytes, in lower-case hex as OPA returns them. Pure
// computation: node:crypto here reads no clock, randomness or file.

function hash(name: string, algorithm: string) {
  return {
    arity: 1,
    fn: (a: readonly Value[]) =>
      createHash(algorithm)
        .update(str(name, a, 0))
        .digest("hex"),
  };
}

function hmac(name: string, algorithm: string) {
  return {
    arity: 2,
    fn: (a: readonly Value[]) =>
      createHmac(algorithm, str(name, a, 1))
        .update(str(name, a, 0))
        .digest("hex"),
  };
}

const PRIVATE_KEY_BLOCKS = new Set(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY"]);

/** Go's strict standard base64 (padding required); its error names the first bad byte. */
function stdBase64(name: string, s: string): string {
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  const pad = s.indexOf("=");
  if (bad >= 0 || s.length % 4 !== 0 || (pad >= 0 && !/^=*$/.test(s.slice(pad)))) {
    const at = bad >= 0 ? bad : pad >= 0 ? pad : s.length - (s.length % 4);
    fail(`${name}: illegal base64 data at input byte ${at}`);
  }
  return Buffer.from(s, "base64").toString("latin1");
}

/** crypto.x509.parse_rsa_private_key: the first private key of PEM (or base64 PEM) as a JWK. */
function privateKeyJwk(name: string, input: string): Value {
  if (input === "") fail(`${name}: input PEM data was empty`);
  const pem = input.startsWith("-----BEGIN") ? input : stdBase64(name, input);
  for (const m of pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)) {
    if (!PRIVATE_KEY_BLOCKS.has(m[1] as string)) continue;
    try {
      return fromJson(createPrivateKey(m[0]).export({ format: "jwk" }));
    } catch (e) {
      return fail(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return null;
}

export const CRYPTO_BUILTINS: BuiltinTable = {
  "crypto.x509.parse_rsa_private_key": {
    arity: 1,
    fn: (a) => privateKeyJwk("crypto.x509.parse_rsa_private_key", str("crypto.x509.parse_rsa_private_key", a, 0)),
  },
  "crypto.md5": hash("crypto.md5", "md5"),
  "crypto.sha1": hash("crypto.sha1", "sha1"),
  "crypto.sha256": hash("crypto.sha256", "sha256"),
  "crypto.hmac.md5": hmac("crypto.hmac.md5", "md5"),
  "crypto.hmac.sha1": hmac("crypto.hmac.sha1", "sha1"),
  "crypto.hmac.sha256": hmac("crypto.hmac.sha256", "sha256"),
  "crypto.hmac.sha512": hmac("crypto.hmac.sha512", "sha512"),
  "crypto.hmac.equal": {
    arity: 2,
    fn: (a) => {
      // Constant time for equal lengths, as Go's hmac.Equal.
      const x = Buffer.from(str("crypto.hmac.equal", a, 0));
      const y = Buffer.from(str("crypto.hmac.equal", a, 1));
      return x.length === y.length && timingSafeEqual(x, y);
    },
  },
};
