import { describe, expect, it } from "vitest";
import { parseSeedShareDocument, type SeedShareDocument, serializeSeedShareDocument } from "../src/seed-shares.js";

const doc: SeedShareDocument = {
  SeedShares: [{ PublicKey: "3082020a0282020100ab", EncryptedSeed: new Uint8Array([1, 2, 3, 250]) }],
  salt: new Uint8Array(32).fill(7),
};

describe("seed-shares.json", () => {
  it("writes Go's protobuf-struct JSON: field names, base64 bytes, two-space indent", () => {
    expect(serializeSeedShareDocument(doc)).toBe(
      `{\n  "SeedShares": [\n    {\n      "PublicKey": "3082020a0282020100ab",\n      "EncryptedSeed": "AQID+g=="\n    }\n  ],\n  "salt": "${Buffer.alloc(32, 7).toString("base64")}"\n}\n`,
    );
  });

  it("round-trips", () => {
    expect(parseSeedShareDocument(serializeSeedShareDocument(doc))).toEqual(doc);
  });

  it("reports every problem in one coded error", () => {
    let err: { code?: string; message?: string; details?: { problems: string[] } } = {};
    try {
      parseSeedShareDocument(
        '{"SeedShares": [{"PublicKey": "zz", "EncryptedSeed": "%%%", "x": 1}], "salt": "AAAA", "extra": true}',
      );
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe("SEED_SHARES_INVALID");
    expect(err.details?.problems).toEqual([
      "extra: unknown field",
      "SeedShares[0].x: unknown field",
      "SeedShares[0].PublicKey: expected hex PKCS#1 public key",
      "SeedShares[0].EncryptedSeed: invalid base64",
      "SeedShares[0].EncryptedSeed: must not be empty",
      "salt: expected 32 bytes, got 3",
    ]);
  });

  it("passes JSON errors through with their own codes", () => {
    expect(() => parseSeedShareDocument("{")).toThrow(expect.objectContaining({ code: "JSON_SYNTAX" }));
    expect(() => parseSeedShareDocument("[]")).toThrow(expect.objectContaining({ code: "SEED_SHARES_INVALID" }));
  });
});
