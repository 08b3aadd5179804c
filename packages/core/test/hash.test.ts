import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { toHex, utf8 } from "../src/bytes.js";
import { digest, HASH_SIZES, sha256, sha256Hex, sha384, sha512 } from "../src/hash.js";

describe("hashing", () => {
  it("matches the FIPS 180-2 'abc' vectors", () => {
    const abc = utf8("abc");
    expect(sha256Hex(abc)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(toHex(sha384(abc))).toBe(
      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
    );
    expect(toHex(sha512(abc))).toBe(
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    );
  });

  it("hashes several parts as their concatenation", () => {
    expect(sha256(utf8("a"), utf8("bc"))).toEqual(sha256(utf8("abc")));
    for (const alg of ["sha256", "sha384", "sha512"] as const) {
      expect(digest(alg, utf8("x"))).toHaveLength(HASH_SIZES[alg]);
    }
  });

  it("agrees with openssl on a binary input", () => {
    const input = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
    const out = execFileSync("openssl", ["dgst", "-sha384", "-r"], { input }).toString();
    expect(out.split(" ")[0]).toBe(toHex(sha384(input)));
  });
});
