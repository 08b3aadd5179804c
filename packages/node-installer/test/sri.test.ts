import { createHash } from "node:crypto";
import { ContrastError, utf8 } from "@contrast/core";
import { expectCode, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IntegrityCheck, integrityOf, parseIntegrity } from "../src/index.js";

const data = utf8("the runtime payload");
const b64 = (alg: string, bytes: Uint8Array) => createHash(alg).update(bytes).digest("base64");
const verify = (sri: string, bytes: Uint8Array) => {
  const check = new IntegrityCheck(parseIntegrity(sri));
  check.update(bytes.subarray(0, 3));
  check.update(bytes.subarray(3));
  return check.finish().matches;
};

describe("SRI", () => {
  it("verifies sha256, sha384 and sha512 values as the bytes' digest, chunked", () => {
    for (const alg of ["sha256", "sha384", "sha512"]) {
      expect(verify(`${alg}-${b64(alg, data)}`, data)).toBe(true);
      expect(verify(`${alg}-${b64(alg, utf8("other"))}`, data)).toBe(false);
    }
    expect(integrityOf(data, "sha384")).toBe(`sha384-${b64("sha384", data)}`);
  });

  it("uses only the strongest algorithm of a multi-hash value, and any of its hashes", () => {
    const wrong256 = `sha256-${b64("sha256", utf8("x"))}`;
    const right512 = `sha512-${b64("sha512", data)}`;
    const wrong512 = `sha512-${b64("sha512", utf8("y"))}`;
    expect(verify(`${wrong256} ${right512}`, data)).toBe(true);
    expect(verify(`${wrong512}\t${right512}`, data)).toBe(true);
    // A right sha256 does not rescue a wrong sha512: the weaker algorithm is ignored.
    expect(verify(`sha256-${b64("sha256", data)} ${wrong512}`, data)).toBe(false);
  });

  it("accepts an option expression and rejects unknown algorithms, bad base64 and wrong lengths", () => {
    expect(verify(`sha256-${b64("sha256", data)}?opt`, data)).toBe(true);
    for (const bad of [
      "",
      "   ",
      `md5-${b64("md5", data)}`,
      `sha1-${b64("sha1", data)}`,
      `sha256-${b64("sha384", data)}`,
      `sha256-${b64("sha256", data).replace(/=+$/, "")}`,
      "sha256-!!!!",
      `sha256:${b64("sha256", data)}`,
      `${createHash("sha256").update(data).digest("hex")}`,
      `sha256-${b64("sha256", data)} garbage`,
    ]) {
      expectCode(() => parseIntegrity(bad), "NODE_INSTALL_INTEGRITY_INVALID", "input");
    }
  });

  it("(property) every value integrityOf writes parses and verifies exactly its bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom("sha256", "sha384", "sha512") as fc.Arbitrary<"sha256" | "sha384" | "sha512">,
        (a, b, alg) => {
          const sri = integrityOf(a, alg);
          expect(verify(sri, a)).toBe(true);
          const same = a.length === b.length && a.every((x, i) => x === b[i]);
          expect(verify(sri, b)).toBe(same);
        },
      ),
      { numRuns: fuzzRuns() },
    );
  });

  it("(fuzz) arbitrary strings either parse or fail with the integrity code, never otherwise", () => {
    const alphabet = fc.constantFrom(..."sha256384512-+/=?abcXYZ019 \t".split(""));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: alphabet }),
          fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString("latin1")),
        ),
        (s) => {
          try {
            const parsed = parseIntegrity(s);
            expect(parsed.hashes.length).toBeGreaterThan(0);
            for (const h of parsed.hashes) expect(h.algorithm).toBe(parsed.algorithm);
          } catch (e) {
            expect(e).toBeInstanceOf(ContrastError);
            expect((e as ContrastError).code).toBe("NODE_INSTALL_INTEGRITY_INVALID");
          }
        },
      ),
      { numRuns: fuzzRuns() },
    );
  });
});
