import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { createAtlsCertificate } from "@contrast/atls";
import { type Clock, fixedClock, utf8 } from "@contrast/core";
import type { MeshCredentials } from "../src/index.js";

export const clock: Clock = fixedClock("2026-01-01T00:00:00Z");
let counter = 0;
/** Deterministic "randomness" (serials, nonces); these tests judge no randomness. */
export const random = (size: number) => {
  counter++;
  return new Uint8Array(size).map((_, i) => (i * 31 + counter) & 0xff);
};

export const p256 = (): KeyObject => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;

/** A self-signed certificate for `key` as PEM (the shape checks need certificates, not a CA). */
export async function certPem(key: KeyObject): Promise<string> {
  return (await createAtlsCertificate({ key, clock, random })).certificatePem;
}

/** A NewMeshCert answer whose leaf is for `workloadKey`. */
export async function answerFor(
  workloadKey: KeyObject,
  secret = new Uint8Array(64).fill(0xab),
): Promise<MeshCredentials> {
  const ca = await certPem(p256());
  const root = await certPem(p256());
  const leaf = await certPem(workloadKey);
  return {
    MeshCACert: utf8(ca),
    CertChain: utf8(leaf + ca),
    RootCACert: utf8(root),
    WorkloadSecret: secret,
  };
}

export const spki = (key: KeyObject): Uint8Array =>
  new Uint8Array(createPublicKey(key).export({ type: "spki", format: "der" }));

export const keyMaterial = (key: KeyObject) => ({
  publicKeyDer: spki(key),
  privateKeyPem: key.export({ type: "pkcs8", format: "pem" }).toString(),
});
