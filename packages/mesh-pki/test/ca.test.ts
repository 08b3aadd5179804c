import { spawn } from "node:child_process";
import { createPublicKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { createServer, type TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import { parseSnpReport, parseTdxQuote } from "@contrast/attestation";
import { DerTag, decodePem, encodeDer, fixedClock, readDerExact, toHex } from "@contrast/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CoordinatorCa, INTERMEDIATE_CA_COMMON_NAME, ROOT_CA_COMMON_NAME } from "../src/ca.js";
import { snpClaimExtensions, tdxClaimExtensions } from "../src/claims.js";
import { encodeEcPrivateKey, publicKeyDer } from "../src/keys.js";
import { classifySans } from "../src/san.js";
import { SeedEngine } from "../src/seed-engine.js";
import { childEnv, expectCode, FUZZ_RUNS, openssl, scratchDir, testRandom, x509 } from "./helpers.js";

const NOW = new Date("2025-03-01T12:34:56.789Z");
const clock = fixedClock(NOW);
const engine = SeedEngine.fromSeed(
  Uint8Array.from({ length: 64 }, (_, i) => i),
  Uint8Array.from({ length: 32 }, (_, i) => i),
);
const workloadKey = generateKeyPairSync("ec", { namedCurve: "P-256" });

function newCa(label = "ca", at = clock) {
  return CoordinatorCa.create(engine, { clock: at, random: testRandom(label) });
}

function write(dir: string, name: string, text: string | Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("CoordinatorCa", () => {
  const dir = scratchDir();
  const ca = newCa();
  const leaf = ca.issueLeaf({
    publicKey: workloadKey.publicKey,
    sans: ["web", "*", "10.0.0.7", "spiffe://cluster.local/ns/default/sa/web", "::1", "web.default.svc"],
    workloadSecretId: "web-secret",
  });

  it("keeps the root CA key across CA objects and recoveries, and draws a new mesh CA key each time", () => {
    const other = newCa("other");
    const root = (c: CoordinatorCa) => toHex(publicKeyDer(new X509Certificate(c.rootCaPem).publicKey));
    const mesh = (c: CoordinatorCa) => toHex(publicKeyDer(new X509Certificate(c.meshCaPem).publicKey));
    expect(root(other)).toBe(root(ca));
    expect(root(ca)).toBe(toHex(publicKeyDer(engine.rootCaKey.publicKey)));
    expect(mesh(other)).not.toBe(mesh(ca));
    expect(toHex(publicKeyDer(ca.meshCaKey))).toBe(mesh(ca));
    // Same injected randomness, same mesh key: the randomness really is injected.
    expect(mesh(newCa("other"))).toBe(mesh(other));
  });

  it("draws leaf serials from the random source 64 at a time, each 16 bytes used once", () => {
    const calls: number[] = [];
    const drawn: Uint8Array[] = [];
    const source = testRandom("serials");
    const counted = CoordinatorCa.create(engine, {
      clock,
      random: (n) => {
        calls.push(n);
        const out = source(n);
        drawn.push(out.slice());
        return out;
      },
    });
    const before = calls.length;
    const serials = Array.from({ length: 130 }, () =>
      toHex(
        new Uint8Array(
          Buffer.from(
            new X509Certificate(counted.issueLeaf({ publicKey: workloadKey.publicKey, sans: ["a"] }).pem).serialNumber,
            "hex",
          ),
        ),
      ),
    );
    expect(calls.slice(before)).toEqual([1024, 1024, 1024]);
    expect(new Set(serials).size).toBe(130);
    // The serials are the drawn bytes in order (Go's serial is a positive INTEGER: leading zeros go).
    const pool = Buffer.concat(drawn.slice(before));
    serials.forEach((s, i) => {
      expect(BigInt(`0x${s}`)).toBe(BigInt(`0x${pool.subarray(16 * i, 16 * i + 16).toString("hex")}`));
    });
  });

  it("reuses a given mesh CA key (peer recovery)", () => {
    const again = CoordinatorCa.create(engine, { clock, random: testRandom("z"), meshCaKey: ca.meshCaKey });
    expect(toHex(publicKeyDer(new X509Certificate(again.meshCaPem).publicKey))).toBe(toHex(publicKeyDer(ca.meshCaKey)));
    const chained = again.issueLeaf({ publicKey: workloadKey.publicKey, sans: ["a"] });
    expect(new X509Certificate(chained.pem).verify(new X509Certificate(ca.meshCaPem).publicKey)).toBe(true);
  });

  it("writes the CA profile: names, CA flags, key usages, key identifiers, validity", async () => {
    const root = new x509.X509Certificate(ca.rootCaDer);
    const inter = new x509.X509Certificate(ca.intermediateCaDer);
    const mesh = new x509.X509Certificate(ca.meshCaDer);
    expect([ROOT_CA_COMMON_NAME, INTERMEDIATE_CA_COMMON_NAME]).toEqual([
      "system:coordinator:root",
      "system:coordinator:intermediate",
    ]);
    expect(root.subject).toBe(`CN=${ROOT_CA_COMMON_NAME}`);
    expect(root.issuer).toBe(`CN=${ROOT_CA_COMMON_NAME}`);
    expect(inter.subject).toBe(`CN=${INTERMEDIATE_CA_COMMON_NAME}`);
    expect(inter.issuer).toBe(`CN=${ROOT_CA_COMMON_NAME}`);
    expect(mesh.subject).toBe(`CN=${INTERMEDIATE_CA_COMMON_NAME}`);
    expect(mesh.issuer).toBe(`CN=${INTERMEDIATE_CA_COMMON_NAME}`);
    for (const c of [root, inter, mesh]) {
      const bc = c.getExtension(x509.BasicConstraintsExtension);
      expect(bc?.ca).toBe(true);
      expect(bc?.critical).toBe(true);
      expect(bc?.pathLength).toBeUndefined();
      const ku = c.getExtension(x509.KeyUsagesExtension);
      expect(ku?.critical).toBe(true);
      expect(ku?.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign);
      expect(c.notBefore.toISOString()).toBe("2025-03-01T11:34:56.000Z");
      expect(c.notAfter.toISOString()).toBe("2035-03-01T12:34:56.000Z");
      expect(c.signatureAlgorithm).toMatchObject({ name: "ECDSA", hash: { name: "SHA-384" } });
      expect(c.serialNumber.length).toBeLessThanOrEqual(34);
    }
    expect(await root.isSelfSigned()).toBe(true);
    expect(await mesh.isSelfSigned()).toBe(true);
    expect(await inter.verify({ publicKey: root.publicKey, signatureOnly: true })).toBe(true);
    const ski = (c: x509.X509Certificate) => c.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    const aki = (c: x509.X509Certificate) => c.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
    expect(ski(inter)).toBe(ski(mesh));
    expect(aki(inter)).toBe(ski(root));
    expect(aki(root)).toBeUndefined();
    expect(aki(mesh)).toBeUndefined();
    // Intermediate and mesh CA are twins: same subject, same key.
    expect(inter.publicKey.rawData).toEqual(mesh.publicKey.rawData);
  });

  it("writes the leaf profile: CN = first DNS SAN, classified SANs, usages, secret ID, validity", () => {
    const cert = new x509.X509Certificate(leaf.der);
    expect(cert.subject).toBe("CN=web");
    expect(cert.issuer).toBe(`CN=${INTERMEDIATE_CA_COMMON_NAME}`);
    expect(cert.notBefore.toISOString()).toBe("2025-03-01T11:34:56.000Z");
    expect(cert.notAfter.toISOString()).toBe("2026-03-01T12:34:56.000Z");
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    expect(san?.critical).toBe(false);
    expect(san?.names.toJSON()).toEqual([
      { type: "dns", value: "web" },
      { type: "dns", value: "*" },
      { type: "dns", value: "web.default.svc" },
      { type: "ip", value: "10.0.0.7" },
      { type: "ip", value: "::1" },
      { type: "url", value: "spiffe://cluster.local/ns/default/sa/web" },
    ]);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(ku?.critical).toBe(true);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
      x509.ExtendedKeyUsage.clientAuth,
      x509.ExtendedKeyUsage.serverAuth,
    ]);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.critical).toBe(true);
    expect(bc?.ca).toBe(false);
    expect(bc?.pathLength).toBeUndefined();
    const secret = cert.extensions.find((e) => e.type === "1.3.9901.3.1");
    expect(secret?.critical).toBe(false);
    // extnValue holds a DER OCTET STRING of the ID's bytes.
    expect(toHex(new Uint8Array(secret?.value ?? new ArrayBuffer(0)))).toBe(
      toHex(encodeDer(DerTag.OCTET_STRING, Buffer.from("web-secret"))),
    );
    expect(toHex(new Uint8Array(cert.publicKey.rawData))).toBe(toHex(publicKeyDer(workloadKey.publicKey)));
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
    expect(aki).toBe(new x509.X509Certificate(ca.meshCaDer).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
  });

  it("orders the leaf's extensions as Go does for upstream's template, the workload secret ID after the claims", () => {
    const claim = { oid: "1.3.9901.2.1.1", value: encodeDer(DerTag.INTEGER, new Uint8Array([2])) };
    const der = ca.issueLeaf({
      publicKey: workloadKey.publicKey,
      sans: ["web"],
      workloadSecretId: "web-secret",
      extensions: [claim],
    }).der;
    const cert = new x509.X509Certificate(der);
    expect(cert.extensions.map((e) => e.type)).toEqual([
      "2.5.29.15", // key usage
      "2.5.29.37", // extended key usage
      "2.5.29.19", // basic constraints
      "2.5.29.35", // authority key ID
      "2.5.29.17", // subject alternative name
      "1.3.9901.2.1.1", // claims, as handed in
      "1.3.9901.3.1", // workload secret ID, last
    ]);
    // DER: SEQUENCE { OID basicConstraints, BOOLEAN TRUE, OCTET STRING { SEQUENCE {} } }, as Go
    // writes it for BasicConstraintsValid without IsCA (both fields of the SEQUENCE are defaults).
    expect(toHex(der)).toContain("300c0603551d130101ff04023000");
  });

  it("writes certChain.pem as the leaf then the intermediate", () => {
    const blocks = decodePem(leaf.certChainPem);
    expect(blocks.map((b) => b.type)).toEqual(["CERTIFICATE", "CERTIFICATE"]);
    expect(toHex(blocks[0]?.der ?? new Uint8Array())).toBe(toHex(leaf.der));
    expect(toHex(blocks[1]?.der ?? new Uint8Array())).toBe(toHex(ca.intermediateCaDer));
    expect(leaf.certChainPem).toBe(leaf.pem + ca.intermediateCaPem);
    expect(leaf.pem.endsWith("-----END CERTIFICATE-----\n")).toBe(true);
  });

  it("issues chains that openssl verify accepts, to the root via the intermediate and to the mesh CA", () => {
    const root = write(dir, "root.pem", ca.rootCaPem);
    const inter = write(dir, "intermediate.pem", ca.intermediateCaPem);
    const mesh = write(dir, "mesh-ca.pem", ca.meshCaPem);
    const leafFile = write(dir, "leaf.pem", leaf.pem);
    const at = ["-attime", String(Math.floor(NOW.getTime() / 1000))];
    expect(openssl(["verify", ...at, "-CAfile", root, "-untrusted", inter, leafFile]).toString()).toContain(": OK");
    expect(openssl(["verify", ...at, "-CAfile", mesh, leafFile]).toString()).toContain(": OK");
    expect(openssl(["verify", ...at, "-CAfile", root, inter]).toString()).toContain(": OK");
    expect(openssl(["verify", ...at, "-purpose", "sslserver", "-CAfile", mesh, leafFile]).toString()).toContain(": OK");
    expect(openssl(["verify", ...at, "-purpose", "sslclient", "-CAfile", mesh, leafFile]).toString()).toContain(": OK");
    // Without the intermediate the root cannot vouch for the leaf.
    expect(() => openssl(["verify", ...at, "-CAfile", root, leafFile])).toThrow();
    // A leaf from another deployment's mesh CA does not verify.
    const foreign = newCa("foreign").issueLeaf({ publicKey: workloadKey.publicKey, sans: ["web"] });
    expect(() => openssl(["verify", ...at, "-CAfile", mesh, write(dir, "foreign.pem", foreign.pem)])).toThrow();
  });

  it("shows the expected SANs and extensions in openssl x509 -text", () => {
    const text = openssl(["x509", "-noout", "-text", "-in", write(dir, "leaf-text.pem", leaf.pem)]).toString();
    expect(text).toMatch(/Subject: CN ?= ?web\n/);
    expect(text).toMatch(/Issuer: CN ?= ?system:coordinator:intermediate/);
    expect(text).toContain(
      "DNS:web, DNS:*, DNS:web.default.svc, IP Address:10.0.0.7, IP Address:0:0:0:0:0:0:0:1, URI:spiffe://cluster.local/ns/default/sa/web",
    );
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    expect(text).toMatch(
      /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication, TLS Web Server Authentication/,
    );
    expect(text).toContain("1.3.9901.3.1:");
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
    expect(text).toContain("Signature Algorithm: ecdsa-with-SHA384");
    expect(text).toContain("ASN1 OID: prime256v1");
    const rootText = openssl(["x509", "-noout", "-text", "-in", write(dir, "root-text.pem", ca.rootCaPem)]).toString();
    expect(rootText).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
    expect(rootText).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Certificate Sign\n/);
    expect(rootText).toContain("ASN1 OID: secp384r1");
  });

  it("carries extra extensions (attestation claims) unchanged", () => {
    const value = encodeDer(DerTag.INTEGER, new Uint8Array([5]));
    const cert = new x509.X509Certificate(
      ca.issueLeaf({
        publicKey: publicKeyDer(workloadKey.publicKey),
        sans: ["a"],
        extensions: [{ oid: "1.3.9901.2.1.2", value }],
      }).der,
    );
    const ext = cert.extensions.find((e) => e.type === "1.3.9901.2.1.2");
    expect(toHex(new Uint8Array(ext?.value ?? new ArrayBuffer(0)))).toBe(toHex(value));
  });

  it("makes the SAN extension critical when there is no DNS name for the subject", () => {
    const cert = new x509.X509Certificate(ca.issueLeaf({ publicKey: workloadKey.publicKey, sans: ["10.1.2.3"] }).der);
    expect(cert.subject).toBe("");
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)?.critical).toBe(true);
    const none = new x509.X509Certificate(ca.issueLeaf({ publicKey: workloadKey.publicKey, sans: [] }).der);
    expect(none.getExtension(x509.SubjectAlternativeNameExtension)).toBeNull();
  });

  it("rejects bad SANs and bad public keys with typed errors", () => {
    expectCode(() => ca.issueLeaf({ publicKey: workloadKey.publicKey, sans: [""] }), "CERT_SAN_INVALID");
    expectCode(() => ca.issueLeaf({ publicKey: workloadKey.publicKey, sans: ["wéb"] }), "CERT_SAN_INVALID");
    expectCode(() => ca.issueLeaf({ publicKey: workloadKey.publicKey, sans: ["a\nb"] }), "CERT_SAN_INVALID");
    expectCode(() => ca.issueLeaf({ publicKey: new Uint8Array([0x30, 0x00]), sans: ["a"] }), "KEY_MALFORMED");
    // A point off the curve is caught by @contrast/x509 and still reported with mesh-pki's code.
    const offCurve = new Uint8Array(workloadKey.publicKey.export({ type: "spki", format: "der" }));
    offCurve[offCurve.length - 1] = (offCurve[offCurve.length - 1] as number) ^ 1;
    expectCode(() => ca.issueLeaf({ publicKey: offCurve, sans: ["a"] }), "KEY_MALFORMED", "input");
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    expectCode(() => CoordinatorCa.create(engine, { clock, random: testRandom(), meshCaKey: rsa }), "KEY_WRONG_TYPE");
    expectCode(
      () => CoordinatorCa.create(engine, { clock, random: () => new Uint8Array(3) }),
      "RANDOM_SOURCE_INVALID",
      "internal",
    );
    expectCode(
      () => CoordinatorCa.create(engine, { clock: { now: () => new Date(Number.NaN) }, random: testRandom() }),
      "CERT_VALIDITY_INVALID",
      "internal",
    );
  });

  it("classifies SANs as IP, URI or DNS", () => {
    const c = classifySans([
      "1.2.3.4",
      "::ffff:1.2.3.4",
      "2001:db8::1",
      "https://x/y",
      "urn:x",
      "localhost",
      "*",
      "a.b",
    ]);
    expect(c.ip.map((b) => toHex(b))).toEqual(["01020304", "01020304", "20010db8000000000000000000000001"]);
    expect(c.uri).toEqual(["https://x/y", "urn:x"]);
    expect(c.dns).toEqual(["localhost", "*", "a.b"]);
  });

  it("writes IPv6 SANs that openssl and Node read back as the same address (property)", () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const cert = new X509Certificate(ca.issueLeaf({ publicKey: workloadKey.publicKey, sans: ["n", ip] }).pem);
        const printed = /IP Address:(.*)$/.exec(cert.subjectAltName ?? "")?.[1] ?? "";
        const norm = (a: string) => new URL(`http://[${a}]/`).hostname;
        // IPv4-mapped addresses are written in their 4-byte form, as Go does.
        expect(norm(printed.includes(".") ? `::ffff:${printed}` : printed)).toBe(norm(ip));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("produces DER that the strict core reader accepts, for arbitrary SANs and IDs (property)", () => {
    const san = fc.stringMatching(/^[a-z0-9.*-]{1,30}$/);
    fc.assert(
      fc.property(fc.array(san, { maxLength: 5 }), fc.string({ maxLength: 40 }), (sans, id) => {
        const issued = ca.issueLeaf({ publicKey: workloadKey.publicKey, sans, workloadSecretId: id });
        readDerExact(issued.der, DerTag.SEQUENCE);
        const cert = new X509Certificate(issued.pem);
        expect(cert.verify(createPublicKey(ca.meshCaKey))).toBe(true);
        if (sans[0] !== undefined) expect(cert.subject).toBe(`CN=${sans[0]}`);
      }),
      { numRuns: Math.min(FUZZ_RUNS, 500) },
    );
  });
});

describe("mesh TLS with openssl s_client", () => {
  const dir = scratchDir();
  // s_client checks validity against the real time, so these CAs are made "now".
  const now = fixedClock(Date.now());
  const ca = newCa("tls", now);
  const foreignCa = newCa("tls-foreign", now);

  /** Serves one TLS endpoint with the key and chain; returns s_client's exit code and output. */
  async function sClient(chain: string, keyPem: string, caFile: string): Promise<{ code: number; out: string }> {
    // The client ends the session (stdin at EOF makes s_client send close_notify and exit 0); a
    // server that hung up first would race it into an "unexpected eof" exit code.
    const sockets = new Set<TLSSocket>();
    const server = createServer({ key: keyPem, cert: chain, minVersion: "TLSv1.3" }, (s) => {
      sockets.add(s);
      s.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      return await new Promise((resolve, reject) => {
        const child = spawn(
          "openssl",
          ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", caFile, "-verify_return_error", "-brief"],
          { env: childEnv(), stdio: ["pipe", "pipe", "pipe"] },
        );
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
        });
        child.stderr.on("data", (d) => {
          out += d;
        });
        child.stdin.end();
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, out }));
      });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it("accepts a server with an issued leaf, verifying to mesh-ca.pem", async () => {
    const key = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const leaf = ca.issueLeaf({ publicKey: key.publicKey, sans: ["localhost", "127.0.0.1"] });
    const keyPem = key.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const r = await sClient(leaf.certChainPem, keyPem, write(dir, "mesh-ca.pem", ca.meshCaPem));
    expect(r.out).toContain("Verification: OK");
    expect(r.code, r.out).toBe(0);
    // The root CA works as the anchor too, because the chain carries the intermediate.
    const viaRoot = await sClient(leaf.certChainPem, keyPem, write(dir, "root.pem", ca.rootCaPem));
    expect(viaRoot.code, viaRoot.out).toBe(0);
  });

  it("rejects a server whose leaf comes from another mesh CA", async () => {
    const key = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const leaf = foreignCa.issueLeaf({ publicKey: key.publicKey, sans: ["localhost"] });
    const keyPem = encodeEcPrivateKey(key.privateKey);
    const r = await sClient(leaf.certChainPem, keyPem, write(dir, "mesh-ca-2.pem", ca.meshCaPem));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/verify error|unable to get local issuer certificate/);
  });
});

describe("SEV-SNP claim extensions", () => {
  const report = parseSnpReport(
    new Uint8Array(
      readFileSync(
        join(dirname(fileURLToPath(import.meta.url)), "../../../testdata/attestation/snp/virtee-milan-report.bin"),
      ),
    ),
  );
  const claims = snpClaimExtensions(report);
  const cert = new x509.X509Certificate(
    newCa("claims").issueLeaf({ publicKey: workloadKey.publicKey, sans: ["web"], extensions: claims }).der,
  );
  const claim = (n: number) => {
    const ext = cert.extensions.find((e) => e.type === `1.3.9901.2.1.${n}`);
    if (ext === undefined) throw new Error(`claim ${n} missing`);
    return readDerExact(new Uint8Array(ext.value));
  };
  const int = (n: number) => {
    const el = claim(n);
    expect(el.tag).toBe(DerTag.INTEGER);
    return Number.parseInt(toHex(el.value), 16);
  };

  it("carries the 46 report fields under 1.3.9901.2.1.<n>, in upstream's emission order", () => {
    const tcb = (first: number) => [first, first + 2, first + 1, first + 3];
    const order = [1, 2, 3, 4, 7, 6, 5, 8, 9, 10, 11, ...tcb(12), 16, 17, 20, 18, 19, 21, 22, 23, 24, 25, 26, 27];
    order.push(...tcb(28), 32, ...tcb(33), 37, 38, 39, 40, 41, 42, ...tcb(43));
    expect(claims.map((c) => c.oid)).toEqual(order.map((n) => `1.3.9901.2.1.${n}`));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 46 }, (_, i) => i + 1));
    // In the certificate too, right after the standard extensions.
    expect(cert.extensions.map((e) => e.type).filter((t) => t.startsWith("1.3.9901.2.1."))).toEqual(
      claims.map((c) => c.oid),
    );
    expect(int(1)).toBe(2); // version
    expect(int(11)).toBe(0); // VMPL
    // current TCB in the OID order bootloader, SNP, TEE, microcode
    expect([int(12), int(13), int(14), int(15)]).toEqual([3, 8, 0, 115]);
    expect(claim(5).tag).toBe(DerTag.BOOLEAN); // debug
    expect(toHex(claim(22).value)).toBe(toHex(report.measurement));
    expect(toHex(claim(23).value)).toBe(toHex(report.hostData));
    expect(toHex(claim(32).value)).toBe(toHex(report.chipId));
    expect(int(20)).toBe(0); // VCEK
  });

  it("splits every TCB with the Milan/Genoa byte layout, on Turin too, as upstream's kds.DecomposeTCBVersion", () => {
    // Distinct bytes show which byte lands in which claim: bootloader 0, TEE 1, SNP 6, microcode 7.
    const raw = Uint8Array.from([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    const turinLike = {
      ...report,
      cpuid: { family: 0x1a, model: 0x02, stepping: 0 }, // a Turin CPU
      currentTcb: raw,
      reportedTcb: raw,
      committedTcb: raw,
      launchTcb: raw,
    };
    const byOid = new Map(snpClaimExtensions(turinLike).map((c) => [c.oid, readDerExact(c.value)]));
    for (const first of [12, 28, 33, 43]) {
      const parts = [0, 1, 2, 3].map((i) => toHex(byOid.get(`1.3.9901.2.1.${first + i}`)?.value ?? new Uint8Array()));
      expect(parts).toEqual(["11", "77", "22", "0088"]); // bootloader, SNP, TEE, microcode (INTEGER 136)
    }
  });
});

describe("TDX claim extensions", () => {
  const testdata = join(dirname(fileURLToPath(import.meta.url)), "../../../testdata/attestation/tdx");
  const bytes = new Uint8Array(readFileSync(join(testdata, "gtg-quote-v4-spr.dat")));
  const quote = parseTdxQuote(bytes);
  const claims = tdxClaimExtensions(quote);
  const cert = new x509.X509Certificate(
    newCa("tdx-claims").issueLeaf({ publicKey: workloadKey.publicKey, sans: ["web"], extensions: claims }).der,
  );
  const fromCert = new Map(cert.extensions.map((e) => [e.type, readDerExact(new Uint8Array(e.value))]));
  const claim = (n: number) => {
    const el = fromCert.get(`1.3.9901.2.2.${n}`);
    if (el === undefined) throw new Error(`claim ${n} missing`);
    return el;
  };
  const octets = (n: number) => {
    const el = claim(n);
    expect(el.tag, `claim ${n}`).toBe(DerTag.OCTET_STRING);
    return el.value;
  };
  const int = (n: number) => {
    const el = claim(n);
    expect(el.tag, `claim ${n}`).toBe(DerTag.INTEGER);
    return el.value.length === 0 ? 0 : Number.parseInt(toHex(el.value), 16);
  };

  it("numbers the QuoteV4 fields 1..47 without 28", () => {
    expect(claims.map((c) => c.oid)).toEqual(
      Array.from({ length: 47 }, (_, i) => i + 1)
        .filter((n) => n !== 28)
        .map((n) => `1.3.9901.2.2.${n}`),
    );
  });

  // The claims must carry the whole quote: laying them out again in the ABI order rebuilds the
  // quote byte for byte, so nothing a verifier could check is lost.
  it("rebuild the signed quote byte for byte from the certificate alone", () => {
    const le = (n: number, size: number) => {
      const out = new Uint8Array(size);
      for (let i = 0; i < size; i++) out[i] = (n / 2 ** (8 * i)) & 0xff;
      return out;
    };
    const parts: Uint8Array[] = [
      le(int(1), 2),
      le(int(2), 2),
      le(int(3), 4),
      ...[4, 5, 6, 7].map(octets),
      ...Array.from({ length: 15 }, (_, i) => octets(8 + i)), // body 8..22
      le(int(23), 4),
      octets(24),
      octets(25),
      le(int(26), 2),
      le(int(27), 4),
      octets(29),
      le(int(30), 4),
      ...[31, 32, 33, 34, 35, 36].map(octets),
      le(int(37), 2),
      le(int(38), 2),
      octets(39),
      octets(40),
      octets(41),
      le(int(42), 2),
      octets(43),
      le(int(44), 2),
      le(int(45), 4),
      octets(46),
    ];
    const rebuilt = Buffer.concat(parts);
    expect(rebuilt.length).toBe(bytes.length - quote.trailing.length);
    expect(toHex(rebuilt)).toBe(toHex(bytes.subarray(0, rebuilt.length)));
    expect(toHex(octets(47))).toBe(toHex(quote.trailing));
  });

  it("reads the measurements where a verifier expects them", () => {
    // MRTD and RTMR0 at their ABI offsets (header 48 bytes, MRTD at body offset 136, RTMRs at 328)
    expect(toHex(octets(14))).toBe(toHex(bytes.subarray(48 + 136, 48 + 184)));
    expect(toHex(octets(18))).toBe(toHex(bytes.subarray(48 + 328, 48 + 376)));
    expect(int(3)).toBe(0x81);
    expect(int(26)).toBe(6);
    expect(int(44)).toBe(5);
  });

  it("carry the document's extra bytes when given", () => {
    const extra = new TextEncoder().encode('{"ContrastCollateral":{}}');
    const last = tdxClaimExtensions(quote, extra).at(-1);
    expect(last?.oid).toBe("1.3.9901.2.2.47");
    expect(toHex(readDerExact(last?.value ?? new Uint8Array()).value)).toBe(toHex(extra));
  });

  const dir = scratchDir();
  it("show up in openssl x509 -text as the 46 OIDs", () => {
    const file = write(dir, "leaf.pem", cert.toString("pem"));
    const text = openssl(["x509", "-in", file, "-noout", "-text"]).toString("utf8");
    const seen = new Set([...text.matchAll(/1\.3\.9901\.2\.2\.(\d+)/g)].map((m) => Number(m[1])));
    expect(seen.size).toBe(46);
    expect(seen.has(28)).toBe(false);
  });
});
