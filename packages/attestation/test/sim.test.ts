import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodePem, fixedClock, sha256Hex, toHex } from "@contrast/core";
import { describe, expect, it } from "vitest";
import { EvidenceError } from "../src/errors.js";
import { createSimulatedAuthority } from "../src/sim/tee.js";
import { parseEndorsementKey } from "../src/snp/endorsement.js";
import { decodeGuestPolicy } from "../src/snp/report.js";
import { validateSnpReport } from "../src/snp/validate.js";
import { SnpVerifier, verifySnpReport } from "../src/snp/verify.js";

const clock = fixedClock("2026-11-22T00:00:00Z");
// 2048-bit RSA keeps the suite fast; production sim authorities use 4096 like AMD.
const sim = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
const request = {
  reportData: new Uint8Array(64).fill(0xaa),
  measurement: new Uint8Array(48).fill(0x11),
  hostData: new Uint8Array(32).fill(0x22),
};

describe("the simulated TEE", () => {
  it("issues reports that verify through the SNP code path with its own anchor", () => {
    const report = sim.report(request);
    const v = verifySnpReport({ report, endorsementKey: sim.vcek, now: clock.now(), roots: sim.roots });
    expect(v.product).toBe("Genoa");
    expect(v.report.version).toBe(3);
    expect(toHex(v.report.hostData)).toBe("22".repeat(32));
    expect(toHex(v.report.chipId)).toBe(toHex(sim.chipId));
    expect(v.reportedTcb).toEqual(sim.tcb);
    const index = validateSnpReport(v, [
      {
        measurement: request.measurement,
        minimumTcb: sim.tcb,
        guestPolicy: decodeGuestPolicy(0x30000n),
        reportData: request.reportData,
        hostData: request.hostData,
      },
    ]);
    expect(index).toBe(0);
  });

  it("can never pass as AMD hardware: AMD's pinned roots reject its chain", () => {
    const report = sim.report(request);
    let err: unknown;
    try {
      verifySnpReport({ report, endorsementKey: sim.vcek, now: clock.now() });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EvidenceError);
    expect((err as EvidenceError).code).toBe("SNP_CHAIN_INVALID");
  });

  it("says INSECURE in every certificate, and pins the ARK by its key digest", () => {
    for (const cert of [sim.roots.ark, sim.roots.ask, new X509Certificate(sim.vcek)]) {
      expect(cert.subject).toContain("INSECURE");
    }
    const spki = new Uint8Array(sim.roots.ark.publicKey.export({ type: "spki", format: "der" }));
    expect(sim.arkKeyDigest).toBe(sha256Hex(spki));
    expect(parseEndorsementKey(sim.vcek)).toMatchObject({ kind: "vcek", productName: "Genoa", tcb: sim.tcb });
  });

  it("writes certificates that openssl verifies: ARK -> ASK -> VCEK, RSASSA-PSS", () => {
    const dir = mkdtempSync(join(tmpdir(), "sim-chain-"));
    const pem = (c: X509Certificate) => c.toString();
    writeFileSync(join(dir, "ark.pem"), pem(sim.roots.ark));
    writeFileSync(join(dir, "ask.pem"), pem(sim.roots.ask));
    writeFileSync(join(dir, "vcek.pem"), encodePem("CERTIFICATE", sim.vcek));
    const out = execFileSync(
      "openssl",
      [
        "verify",
        "-attime",
        String(Math.floor(clock.now().getTime() / 1000)),
        "-CAfile",
        join(dir, "ark.pem"),
        "-untrusted",
        join(dir, "ask.pem"),
        join(dir, "vcek.pem"),
      ],
      { encoding: "utf8" },
    );
    expect(out.trim()).toBe(`${join(dir, "vcek.pem")}: OK`);
    const text = execFileSync("openssl", ["x509", "-in", join(dir, "vcek.pem"), "-noout", "-text"], {
      encoding: "utf8",
    });
    expect(text).toContain("rsassaPss");
    expect(text).toMatch(/Salt Length: 0x30/);
  });

  it("rejects tampered simulated reports exactly like hardware ones", () => {
    const verifier = new SnpVerifier({ clock, roots: () => sim.roots });
    const report = sim.report(request);
    expect(verifier.verify({ report, endorsementKey: sim.vcek }).product).toBe("Genoa");
    for (const offset of [0x50, 0x90, 0xc0, 0x180, 0x2a0]) {
      const t = new Uint8Array(report);
      t[offset] = (t[offset] as number) ^ 0x01;
      expect(() => verifier.verify({ report: t, endorsementKey: sim.vcek })).toThrow(EvidenceError);
    }
  });

  it("a second authority's reports do not verify under the first one's anchor", () => {
    const other = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
    expect(() =>
      verifySnpReport({
        report: other.report(request),
        endorsementKey: other.vcek,
        now: clock.now(),
        roots: sim.roots,
      }),
    ).toThrow(expect.objectContaining({ code: "SNP_CHAIN_INVALID" }));
    expect(other.arkKeyDigest).not.toBe(sim.arkKeyDigest);
  });

  it("refuses report requests of the wrong sizes", () => {
    expect(() => sim.report({ ...request, hostData: new Uint8Array(31) })).toThrow(
      expect.objectContaining({ code: "SIM_REPORT_REQUEST_INVALID" }),
    );
  });
});

describe("AMD CRLs (with the simulated authority's CRL)", () => {
  const report = () => sim.report(request);
  const verify = (crl: Uint8Array, now = clock.now()) =>
    verifySnpReport({ report: report(), endorsementKey: sim.vcek, now, roots: sim.roots, crl });

  it("accepts a current CRL that revokes nothing, and openssl agrees it is signed by the ARK", () => {
    const crl = sim.crl({ now: clock.now() });
    expect(verify(crl).product).toBe("Genoa");
    const dir = mkdtempSync(join(tmpdir(), "sim-crl-"));
    writeFileSync(join(dir, "crl.der"), crl);
    writeFileSync(join(dir, "ark.pem"), sim.roots.ark.toString());
    const out = execFileSync(
      "openssl",
      ["crl", "-inform", "DER", "-in", join(dir, "crl.der"), "-CAfile", join(dir, "ark.pem"), "-noout"],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    expect(out).toBe("");
  });

  it("rejects a report whose ASK is revoked", () => {
    expect(() => verify(sim.crl({ now: clock.now(), revokeAsk: true }))).toThrow(
      expect.objectContaining({ code: "SNP_CERT_REVOKED" }),
    );
    const verifier = new SnpVerifier({ clock, roots: () => sim.roots });
    verifier.verify({ report: report(), endorsementKey: sim.vcek });
    // Revocation is never served from the cache.
    expect(() =>
      verifier.verify({
        report: report(),
        endorsementKey: sim.vcek,
        crl: sim.crl({ now: clock.now(), revokeAsk: true }),
      }),
    ).toThrow(expect.objectContaining({ code: "SNP_CERT_REVOKED" }));
  });

  it("rejects stale CRLs and CRLs from another issuer", () => {
    const crl = sim.crl({ now: clock.now() });
    expect(() => verify(crl, new Date(clock.now().getTime() + 30 * 86_400_000))).toThrow(
      expect.objectContaining({ code: "CRL_NOT_VALID_AT_TIME" }),
    );
    const other = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
    expect(() => verify(other.crl({ now: clock.now() }))).toThrow(expect.objectContaining({ code: "CRL_INVALID" }));
  });
});
