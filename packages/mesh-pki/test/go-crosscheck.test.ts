import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSnpReport } from "@contrast/attestation";
import { fixedClock, sha256, toHex } from "@contrast/core";
import { serializeSeedShareDocument } from "@contrast/manifest";
import { describe, expect, it } from "vitest";
import {
  CoordinatorCa,
  createSeedShareDocument,
  encodeEcPrivateKey,
  encodePublicKey,
  encodeSeedShareOwnerKey,
  encodeTransition,
  generateSeed,
  generateWorkloadOwnerKey,
  SeedEngine,
  seedShareOwnerPublicKeyHex,
  signTransition,
  signUpdate,
  snpClaimExtensions,
  type Transition,
  workloadOwnerKeyDigest,
  ZERO_TRANSITION_HASH,
} from "../src/index.js";
import { childEnv, scratchDir, testRandom } from "./helpers.js";

/**
 * Upstream Contrast is written in Go: its Coordinator, initializer and CLI read what this package
 * writes with Go's standard library. test/go/crosscheck.go does exactly that (crypto/x509
 * verification, a crypto/tls mutual handshake, the PEM key types, OAEP seed-share decryption,
 * ECDSA transition signatures), and this test checks what it reports. `.ci/run` installs Debian's
 * golang-go; the program uses only the standard library and runs offline.
 */
const CROSSCHECK = new URL("./go/crosscheck.go", import.meta.url).pathname;

function runGo(dir: string): Record<string, unknown> {
  const env: NodeJS.ProcessEnv = { ...childEnv(), GOPROXY: "off" };
  if (env.HOME === undefined) env.GOCACHE = join(dir, "go-cache");
  const out = execFileSync("go", ["run", CROSSCHECK, dir], { env, encoding: "utf8", timeout: 300_000 });
  return JSON.parse(out) as Record<string, unknown>;
}

describe("Go's standard library reads what mesh-pki writes", () => {
  const dir = scratchDir();
  const secret = generateSeed(testRandom("go-seed"));
  const engine = SeedEngine.fromSeed(secret.seed, secret.salt);
  const clock = fixedClock(new Date());
  const ca = CoordinatorCa.create(engine, { clock, random: testRandom("go-ca") });
  const foreignCa = CoordinatorCa.create(engine, { clock, random: testRandom("go-foreign") });
  const workload = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const sans = ["web", "web.default.svc", "10.0.0.7", "spiffe://cluster.local/ns/default/sa/web"];
  const leaf = ca.issueLeaf({ publicKey: workload.publicKey, sans, workloadSecretId: "web-secret" });
  const foreign = foreignCa.issueLeaf({ publicKey: workload.publicKey, sans: ["web"] });
  const snpReport = parseSnpReport(
    new Uint8Array(
      readFileSync(
        join(dirname(fileURLToPath(import.meta.url)), "../../../testdata/attestation/snp/virtee-milan-report.bin"),
      ),
    ),
  );
  const claimsLeaf = ca.issueLeaf({
    publicKey: workload.publicKey,
    sans: ["db", "10.0.0.8"],
    extensions: snpClaimExtensions(snpReport),
    workloadSecretId: "db-secret",
  });

  const owner = generateWorkloadOwnerKey(testRandom("go-owner"));
  const shareOwner = generateKeyPairSync("rsa", { modulusLength: 3072 });
  const shares = createSeedShareDocument(secret, [seedShareOwnerPublicKeyHex(shareOwner.publicKey)]);
  const transition: Transition = {
    manifestHash: sha256(new TextEncoder().encode('{"Policies":{}}\n')),
    previousTransitionHash: ZERO_TRANSITION_HASH,
  };

  const files: Record<string, string | Uint8Array> = {
    "root.pem": ca.rootCaPem,
    "mesh-ca.pem": ca.meshCaPem,
    "certChain.pem": leaf.certChainPem,
    "foreign-chain.pem": foreign.certChainPem,
    "claims-chain.pem": claimsLeaf.certChainPem,
    "root-key.pem": encodeEcPrivateKey(engine.rootCaKey.privateKey),
    "mesh-ca-key.pem": encodeEcPrivateKey(ca.meshCaKey),
    "leaf-key.pem": workload.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    "workload-owner.pem": encodeEcPrivateKey(owner),
    "seedshare-owner.pem": encodeSeedShareOwnerKey(shareOwner.privateKey),
    "seed-shares.json": serializeSeedShareDocument(shares),
    "transaction.pub.pem": encodePublicKey(engine.transactionSigningKey.publicKey),
    "transition.bin": encodeTransition(transition),
    "transition.sig": signTransition(transition, engine.transactionSigningKey.privateKey),
    "update.sig": signUpdate(transition, owner),
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const go = runGo(dir);

  it("verifies issued chains to the root CA (via the intermediate) and to the mesh CA, for both TLS roles", () => {
    expect(go.chainLength).toBe(2);
    expect(go.verifyToRoot).toBe("ok");
    expect(go.verifyToMeshCa).toBe("ok");
    expect(go.rootCommonName).toBe("system:coordinator:root");
    expect(go.rootSelfSigned).toBe("ok");
  });

  it("rejects a leaf from another mesh CA and a name the leaf does not carry", () => {
    expect(go.verifyForeign).toMatch(/unknown authority/);
    expect(go.verifyWrongName).toMatch(/not-web/);
  });

  it("reads the subject, the classified SANs and the workload secret ID as the leaf says", () => {
    expect(go.leaf).toMatchObject({
      commonName: "web",
      dns: ["web", "web.default.svc"],
      ips: ["10.0.0.7"],
      uris: ["spiffe://cluster.local/ns/default/sa/web"],
      workloadSecretId: "web-secret",
      issuer: "system:coordinator:intermediate",
      isCA: false,
      basicConstraintsValid: true,
    });
    expect((go.leaf as { extensions: string[] }).extensions).toContain("1.3.9901.3.1");
  });

  it("re-issues every certificate byte for byte (to-be-signed part) from upstream's templates with x509.CreateCertificate", () => {
    // Same keys, names, serial and validity: only the randomised ECDSA signature may differ, so
    // extension order, criticality, BasicConstraints CA:FALSE on the leaf, key IDs and name
    // encodings are Go's, and the workload secret ID comes after the claims.
    expect(go.rebuild).toEqual({
      root: "identical",
      intermediate: "identical",
      meshCa: "identical",
      leaf: "identical",
      claimsLeaf: "identical",
    });
  });

  it("completes a mutual TLS 1.3 handshake with the issued chain, trusting only mesh-ca.pem", () => {
    expect(go.tls).toBe("ok");
  });

  it("reads workload-owner.pem (SEC1) and computes the same owner key digest", () => {
    expect(go.workloadOwnerKeyDigest).toBe(workloadOwnerKeyDigest(owner));
  });

  it("finds and decrypts the seed share with seedshare-owner.pem (PKCS#1, OAEP SHA-256, label seedshare)", () => {
    expect(go.seed).toBe(toHex(secret.seed));
    expect(go.salt).toBe(toHex(secret.salt));
    expect(go.tamperedShare).toMatch(/decryption error/);
    expect(go.wrongLabel).toMatch(/decryption error/);
  });

  it("verifies the transition signature over the 32-byte hash and the owner's update signature", () => {
    expect(go.transactionCurve).toBe("P-384");
    expect(go.transitionSignature).toBe(true);
    expect(go.transitionSignatureOtherHash).toBe(false);
    expect(go.updateSignature).toBe(true);
  });
});
