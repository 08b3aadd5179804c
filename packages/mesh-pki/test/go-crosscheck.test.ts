import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
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
  const report = runGo(dir);

  it("verifies issued chains to the root CA (via the intermediate) and to the mesh CA, for both TLS roles", () => {
    expect(report.chainLength).toBe(2);
    expect(report.verifyToRoot).toBe("ok");
    expect(report.verifyToMeshCa).toBe("ok");
    expect(report.rootCommonName).toBe("system:coordinator:root");
    expect(report.rootSelfSigned).toBe("ok");
  });

  it("rejects a leaf from another mesh CA and a name the leaf does not carry", () => {
    expect(report.verifyForeign).toMatch(/unknown authority/);
    expect(report.verifyWrongName).toMatch(/not-web/);
  });

  it("reads the subject, the classified SANs and the workload secret ID as the leaf says", () => {
    expect(report.leaf).toMatchObject({
      commonName: "web",
      dns: ["web", "web.default.svc"],
      ips: ["10.0.0.7"],
      uris: ["spiffe://cluster.local/ns/default/sa/web"],
      workloadSecretId: "web-secret",
      issuer: "system:coordinator:intermediate",
      isCA: false,
    });
    expect((report.leaf as { extensions: string[] }).extensions).toContain("1.3.9901.3.1");
  });

  it("completes a mutual TLS 1.3 handshake with the issued chain, trusting only mesh-ca.pem", () => {
    expect(report.tls).toBe("ok");
  });

  it("reads workload-owner.pem (SEC1) and computes the same owner key digest", () => {
    expect(report.workloadOwnerKeyDigest).toBe(workloadOwnerKeyDigest(owner));
  });

  it("finds and decrypts the seed share with seedshare-owner.pem (PKCS#1, OAEP SHA-256, label seedshare)", () => {
    expect(report.seed).toBe(toHex(secret.seed));
    expect(report.salt).toBe(toHex(secret.salt));
    expect(report.tamperedShare).toMatch(/decryption error/);
    expect(report.wrongLabel).toMatch(/decryption error/);
  });

  it("verifies the transition signature over the 32-byte hash and the owner's update signature", () => {
    expect(report.transactionCurve).toBe("P-384");
    expect(report.transitionSignature).toBe(true);
    expect(report.transitionSignatureOtherHash).toBe(false);
    expect(report.updateSignature).toBe(true);
  });
});
