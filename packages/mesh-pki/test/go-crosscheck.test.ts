import { execFileSync } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSnpReport } from "@contrast/attestation";
import {
  concatBytes,
  DerTag,
  encodeDer,
  fixedClock,
  fromHex,
  readDerChildren,
  readDerExact,
  sha256,
  toBase64,
  toHex,
} from "@contrast/core";
import { serializeSeedShareDocument } from "@contrast/manifest";
import { describe, expect, it } from "vitest";
import { CoordinatorCa } from "../src/ca.js";
import { snpClaimExtensions } from "../src/claims.js";
import { ecdsaCurveParameters, verifyEcdsaDigest } from "../src/ecdsa-digest.js";
import {
  encodeEcPrivateKey,
  encodePublicKey,
  encodeSeedShareOwnerKey,
  generateWorkloadOwnerKey,
  publicKeyDer,
  seedShareOwnerPublicKeyHex,
  workloadOwnerKeyDigest,
} from "../src/keys.js";
import { generateSeed, SeedEngine } from "../src/seed-engine.js";
import { createSeedShareDocument } from "../src/seed-shares.js";
import {
  encodeTransition,
  signTransition,
  signUpdate,
  type Transition,
  ZERO_TRANSITION_HASH,
} from "../src/transitions.js";
import { childEnv, scratchDir, TESTDATA, testRandom } from "./helpers.js";

interface DigestCase {
  readonly publicKey: KeyObject;
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

function derInt(v: bigint): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return encodeDer(DerTag.INTEGER, fromHex(hex));
}

const derSeq = (...parts: Uint8Array[]) => encodeDer(DerTag.SEQUENCE, concatBytes(...parts));

/**
 * Signatures over given digests, honest and doctored, for Go's ecdsa.VerifyASN1 (what upstream's
 * history uses on transitions/latest) and verifyEcdsaDigest to judge side by side.
 */
function digestCases(): DigestCase[] {
  const cases: DigestCase[] = [];
  const random = testRandom("digest-cases");
  for (const [curve, node] of [
    ["P-256", "prime256v1"],
    ["P-384", "secp384r1"],
    ["P-521", "secp521r1"],
  ] as const) {
    const key = generateKeyPairSync("ec", { namedCurve: node });
    const n = ecdsaCurveParameters(curve)?.n ?? 0n;
    for (const hash of ["sha256", "sha384", "sha512"]) {
      const message = random(40);
      const digest = new Uint8Array(createHash(hash).update(message).digest());
      const signature = new Uint8Array(sign(hash, message, { key: key.privateKey, dsaEncoding: "der" }));
      const [r, s] = readDerChildren(readDerExact(signature, DerTag.SEQUENCE)).map((e) =>
        BigInt(`0x${toHex(e.value)}`),
      );
      if (r === undefined || s === undefined) throw new Error("bad signature");
      const flipped = new Uint8Array(digest);
      flipped[digest.length - 1] = (flipped[digest.length - 1] as number) ^ 1;
      const doctored = [
        signature,
        derSeq(derInt(r), derInt(n - s)), // the other s
        derSeq(derInt(r + n), derInt(s)),
        derSeq(derInt(r), derInt(s + n)),
        derSeq(derInt(0n), derInt(s)),
        derSeq(encodeDer(DerTag.INTEGER, concatBytes(new Uint8Array([0]), derInt(r).subarray(2))), derInt(s)),
        concatBytes(signature, new Uint8Array([0])),
        derSeq(derInt(r), derInt(s), derInt(1n)),
        random(signature.length),
      ];
      for (const sig of doctored) cases.push({ publicKey: key.publicKey, digest, signature: sig });
      cases.push({ publicKey: key.publicKey, digest: flipped, signature });
      for (let i = 0; i < 6; i++) {
        const bad = new Uint8Array(signature);
        const at = (random(1)[0] as number) % bad.length;
        bad[at] = (bad[at] as number) ^ (1 << ((random(1)[0] as number) & 7));
        cases.push({ publicKey: key.publicKey, digest, signature: bad });
      }
    }
  }
  const upstream = JSON.parse(readFileSync(join(TESTDATA, "upstream-contrast-vectors.json"), "utf8")).history;
  const upstreamKey = createPublicKey(
    createPrivateKey({ key: Buffer.from(upstream.signingKeyPkcs8Base64, "base64"), format: "der", type: "pkcs8" }),
  );
  for (const stored of [upstream.latest.valid, upstream.latest.hashModified, upstream.latest.signatureModified]) {
    const bytes = fromHex(stored);
    cases.push({ publicKey: upstreamKey, digest: bytes.subarray(0, 32), signature: bytes.subarray(32) });
  }
  return cases;
}

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
  const cases = digestCases();
  files["digest-cases.json"] = JSON.stringify(
    cases.map((c) => ({
      publicKey: toBase64(publicKeyDer(c.publicKey)),
      digest: toBase64(c.digest),
      signature: toBase64(c.signature),
    })),
  );
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

  it("judges every signature over a given digest as ecdsa.VerifyASN1 does (transitions/latest)", () => {
    const ours = cases.map((c) => verifyEcdsaDigest(c.publicKey, c.digest, c.signature));
    expect(go.digestVerdicts).toEqual(ours);
    // Valid: each honest signature and its other s, upstream's own vector, and the flipped last
    // digest bit where the digest is longer than the order (only its leftmost bits count:
    // SHA-384 and SHA-512 on P-256, SHA-512 on P-384). Nothing else.
    expect(ours.filter(Boolean)).toHaveLength(3 * 3 * 2 + 1 + 3);
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
