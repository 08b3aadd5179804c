import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { fromHex, sha256, toHex } from "@contrast/core";
import { publicKeyDer, seedShareOwnerPublicKeyHex, workloadOwnerKeyDigest } from "@contrast/mesh-pki";
import { expectCode } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { authorizationDigest } from "../src/index.js";

describe("authorizationDigest", () => {
  it("is the manifest's WorkloadOwnerKeyDigests entry for an ECDSA key", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    expect(toHex(authorizationDigest(publicKeyDer(privateKey)))).toBe(workloadOwnerKeyDigest(privateKey));
  });

  it("matches a compressed-point encoding of the same key (re-encoded as upstream does)", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    const x = Buffer.from(jwk.x ?? "", "base64url");
    const y = Buffer.from(jwk.y ?? "", "base64url");
    // SPKI of P-256 with a compressed point: the same key, other bytes.
    const prefix = Buffer.from("3039301306072a8648ce3d020106082a8648ce3d030107032200", "hex");
    const compressed = Buffer.concat([prefix, Buffer.from([2 + ((y.at(-1) ?? 0) & 1)]), x]);
    expect(createPublicKey({ key: compressed, format: "der", type: "spki" }).export({ format: "jwk" }).x).toBe(jwk.x);
    expect(toHex(authorizationDigest(new Uint8Array(compressed)))).toBe(workloadOwnerKeyDigest(privateKey));
  });

  it("digests an RSA key as PKCS#1, as SeedshareOwnerPubKeys entries are", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const ownerHex = seedShareOwnerPublicKeyHex(privateKey);
    expect(toHex(authorizationDigest(publicKeyDer(privateKey)))).toBe(toHex(sha256(fromHex(ownerHex))));
  });

  it("refuses other key types and garbage", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    expectCode(() => authorizationDigest(publicKeyDer(privateKey)), "COORDINATOR_CLIENT_KEY_UNSUPPORTED", "policy");
    expectCode(
      () => authorizationDigest(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])),
      "COORDINATOR_CLIENT_KEY_UNSUPPORTED",
    );
  });
});
