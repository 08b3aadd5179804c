import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs benchmark helper without types
import { parseOpensslEcdsaSpeed } from "../bench/anchor.mjs";

describe("the benchmark anchor", () => {
  it("reads sign/s and verify/s from openssl speed's table", () => {
    const out = [
      "                              sign    verify    sign/s verify/s",
      " 384 bits ecdsa (nistp384)   0.0007s   0.0006s   1524.5   1793.8",
    ].join("\n");
    expect(parseOpensslEcdsaSpeed(out)).toEqual({ sign: 1524.5, verify: 1793.8 });
  });

  it("refuses output without the P-384 row or with non-numbers", () => {
    expect(() => parseOpensslEcdsaSpeed(" 256 bits ecdsa (nistp256)   0.0001s   0.0001s   9000.0   8000.0")).toThrow();
    expect(() => parseOpensslEcdsaSpeed(" 384 bits ecdsa (nistp384)   0.0007s   0.0006s   fast   1793.8")).toThrow();
    expect(() => parseOpensslEcdsaSpeed("")).toThrow();
  });

  it("reads the real openssl's output", () => {
    const out = execFileSync("openssl", ["speed", "-seconds", "1", "ecdsap384"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const { sign, verify } = parseOpensslEcdsaSpeed(out);
    expect(sign).toBeGreaterThan(0);
    expect(verify).toBeGreaterThan(0);
  });
});
