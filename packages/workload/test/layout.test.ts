import { fromUtf8, utf8 } from "@contrast/core";
import { expectCode, FUZZ_RUNS } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CREDENTIAL_LAYOUT, CREDENTIAL_MODES, credentialFiles, WorkloadError } from "../src/index.js";
import { answerFor, keyMaterial, p256 } from "./helpers.js";

describe("credentialFiles", () => {
  it("lays the answer out as upstream does: four tls-config files and the seed as lower-case hex", async () => {
    const key = p256();
    const answer = await answerFor(
      key,
      new Uint8Array(64).map((_, i) => i * 4),
    );
    const files = credentialFiles(answer, keyMaterial(key));
    expect(files.map((f) => [f.path, f.mode])).toEqual([
      ["tls-config/mesh-ca.pem", 0o444],
      ["tls-config/certChain.pem", 0o444],
      ["tls-config/key.pem", 0o400],
      ["tls-config/coordinator-root-ca.pem", 0o444],
      ["secrets/workload-secret-seed", 0o400],
    ]);
    const byPath = new Map(files.map((f) => [f.path, f.contents]));
    expect(byPath.get(CREDENTIAL_LAYOUT.meshCa)).toBe(answer.MeshCACert);
    expect(byPath.get(CREDENTIAL_LAYOUT.certChain)).toBe(answer.CertChain);
    expect(byPath.get(CREDENTIAL_LAYOUT.coordinatorRootCa)).toBe(answer.RootCACert);
    expect(fromUtf8(byPath.get(CREDENTIAL_LAYOUT.key) as Uint8Array)).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const seed = fromUtf8(byPath.get(CREDENTIAL_LAYOUT.workloadSecretSeed) as Uint8Array);
    expect(seed).toMatch(/^[0-9a-f]{128}$/);
    expect(seed.slice(0, 8)).toBe("0004080c");
    expect(CREDENTIAL_MODES).toEqual({ dir: 0o755, certificate: 0o444, secret: 0o400 });
  });

  it("writes no seed file when the policy entry has no WorkloadSecretID (empty secret)", async () => {
    const key = p256();
    const files = credentialFiles(await answerFor(key, new Uint8Array(0)), keyMaterial(key));
    expect(files.map((f) => f.path)).not.toContain(CREDENTIAL_LAYOUT.workloadSecretSeed);
    expect(files).toHaveLength(4);
  });

  it("refuses a chain whose leaf is for another key (key.pem would not match certChain.pem)", async () => {
    const key = p256();
    const answer = await answerFor(p256());
    expectCode(() => credentialFiles(answer, keyMaterial(key)), "INITIALIZER_RESPONSE_INVALID", "crypto");
  });

  it("refuses missing, non-PEM, non-certificate and truncated PEMs, and a secret of the wrong size", async () => {
    const key = p256();
    const good = await answerFor(key);
    const km = keyMaterial(key);
    const bad = [
      { ...good, MeshCACert: new Uint8Array(0) },
      { ...good, RootCACert: utf8("not a PEM") },
      { ...good, CertChain: utf8(km.privateKeyPem) },
      { ...good, CertChain: good.CertChain.subarray(0, 200) },
      { ...good, MeshCACert: new Uint8Array([0xff, 0xfe, 0x00]) },
      { ...good, CertChain: utf8("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") },
      { ...good, WorkloadSecret: new Uint8Array(32) },
    ];
    for (const answer of bad) expectCode(() => credentialFiles(answer, km), "INITIALIZER_RESPONSE_INVALID");
  });

  it("(fuzz) any bytes from the Coordinator: files for a valid answer, else INITIALIZER_RESPONSE_INVALID", async () => {
    const key = p256();
    const good = await answerFor(key);
    const km = keyMaterial(key);
    const field = fc.constantFrom("MeshCACert", "CertChain", "RootCACert", "WorkloadSecret");
    const mutation = fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((b) => () => b),
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]) => (orig: Uint8Array) => {
        const copy = orig.slice();
        if (copy.length > 0) copy[at % copy.length] = v;
        return copy;
      }),
      fc.nat().map((n) => (orig: Uint8Array) => orig.subarray(0, n % (orig.length + 1))),
    );
    fc.assert(
      fc.property(field, mutation, (name, mutate) => {
        const answer = { ...good, [name]: mutate(good[name]) };
        try {
          const files = credentialFiles(answer, km);
          expect(files.length).toBeGreaterThanOrEqual(4);
        } catch (e) {
          expect(e).toBeInstanceOf(WorkloadError);
          expect((e as WorkloadError).code).toBe("INITIALIZER_RESPONSE_INVALID");
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
