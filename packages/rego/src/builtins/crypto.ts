import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Value } from "../values.js";
import { type BuiltinTable, str } from "./registry.js";

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

export const CRYPTO_BUILTINS: BuiltinTable = {
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
