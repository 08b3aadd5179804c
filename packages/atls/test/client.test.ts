import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { createSimulatedAuthority } from "@contrast/attestation/testing";
import { manualClock, systemClock, toHex } from "@contrast/core";
import { simReferenceValues } from "@contrast/manifest";
import { opensslSelfSigned } from "@contrast/testkit";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type AtlsVerifyOptions,
  atlsChannelCredentials,
  atlsConnect,
  createAtlsCertificate,
  type EvidenceIssuer,
  reportData,
  simIssuer,
} from "../src/index.js";
import {
  authority,
  EchoClient,
  echo,
  fakeServer,
  issuer,
  MEASUREMENT,
  POLICY_HASH,
  random,
  verifyOptions,
} from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function serverWith(certFor: Parameters<typeof fakeServer>[0]) {
  const s = await fakeServer(certFor);
  cleanups.push(s.close);
  return s;
}

const pem = async (c: Awaited<ReturnType<typeof createAtlsCertificate>>) => ({ key: c.keyPem, cert: c.certificatePem });

/**
 * Calls the fake server through the grpc-js credentials and expects UNAVAILABLE with the given
 * aTLS code, and that the server received no byte after the handshake: no request was written.
 */
async function expectRefused(
  port: number,
  received: () => number,
  code: string,
  verify: AtlsVerifyOptions = verifyOptions(systemClock),
) {
  const creds = atlsChannelCredentials({ verify, random });
  const client = new EchoClient(`127.0.0.1:${port}`, creds);
  cleanups.push(() => client.close());
  const err = (await echo(client, Buffer.from("secret request"), 3000).then(
    () => undefined,
    (e: unknown) => e,
  )) as grpc.ServiceError | undefined;
  expect(err?.code).toBe(grpc.status.UNAVAILABLE);
  expect(creds.lastError()?.code).toBe(code);
  expect(received()).toBe(0);
}

describe("the client refuses servers that cannot prove what they run, before writing a request", () => {
  it("a correct fake (control): the same harness lets a request through", async () => {
    const s = await serverWith(async (nonce) =>
      pem(await createAtlsCertificate({ issuer: issuer(), nonce, clock: systemClock, random })),
    );
    const conn = await atlsConnect("127.0.0.1", s.port, { verify: verifyOptions(systemClock), random });
    conn.socket.write("request");
    await new Promise((r) => setTimeout(r, 100));
    conn.socket.destroy();
    expect(s.received()).toBe(7);
  });

  it("a plain TLS server without evidence (ATLS_EVIDENCE_MISSING)", async () => {
    const s = await serverWith(async () => pem(await createAtlsCertificate({ clock: systemClock, random })));
    await expectRefused(s.port, s.received, "ATLS_EVIDENCE_MISSING");
  });

  it("evidence for another nonce: a replayed certificate (ATLS_REPORT_DATA_MISMATCH)", async () => {
    const replayed = await createAtlsCertificate({ issuer: issuer(), nonce: random(32), clock: systemClock, random });
    const s = await serverWith(async () => pem(replayed));
    await expectRefused(s.port, s.received, "ATLS_REPORT_DATA_MISMATCH");
  });

  it("evidence for another key with the right nonce: a relayed evidence document (ATLS_REPORT_DATA_MISMATCH)", async () => {
    // The attacker relays the client's nonce to a genuine TEE, gets evidence bound to the TEE's
    // key, and presents it in a certificate for its own key.
    const s = await serverWith(async (nonce) => {
      const genuine = await createAtlsCertificate({ issuer: issuer(), nonce, clock: systemClock, random });
      const { certificateExtensions } = await import("@contrast/x509");
      const evidence = certificateExtensions(genuine.certificateDer).get("1.3.9901.2.1") as Uint8Array;
      const stolen: EvidenceIssuer = { platform: "sim", oid: "1.3.9901.2.1", issue: async () => evidence };
      return pem(await createAtlsCertificate({ issuer: stolen, nonce, clock: systemClock, random }));
    });
    await expectRefused(s.port, s.received, "ATLS_REPORT_DATA_MISMATCH");
  });

  it("tampered evidence (a flipped byte in the signed report)", async () => {
    const s = await serverWith(async (nonce) => {
      const key = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey;
      const tampering: EvidenceIssuer = {
        platform: "sim",
        oid: "1.3.9901.2.1",
        issue: async (rd) => {
          const doc = Uint8Array.from(await issuer().issue(rd));
          const at = Buffer.from(doc).indexOf(Buffer.from(POLICY_HASH));
          doc[at] = (doc[at] as number) ^ 0x80; // HOST_DATA is signed: the signature breaks
          return doc;
        },
      };
      return pem(await createAtlsCertificate({ issuer: tampering, nonce, key, clock: systemClock, random }));
    });
    await expectRefused(s.port, s.received, "SNP_SIGNATURE_INVALID");
  });

  it("a server whose certificate signature was tampered with (ATLS_CERTIFICATE_NOT_SELF_SIGNED)", async () => {
    const s = await serverWith(async (nonce) => {
      const c = await createAtlsCertificate({ issuer: issuer(), nonce, clock: systemClock, random });
      const der = Uint8Array.from(c.certificateDer);
      der[der.length - 3] = (der[der.length - 3] as number) ^ 1;
      const { encodePem } = await import("@contrast/core");
      return { key: c.keyPem, cert: encodePem("CERTIFICATE", der) };
    });
    await expectRefused(s.port, s.received, "ATLS_CERTIFICATE_NOT_SELF_SIGNED");
  });

  it("wrong reference values: another simulated TEE's trust anchor", async () => {
    const s = await serverWith(async (nonce) =>
      pem(await createAtlsCertificate({ issuer: issuer(), nonce, clock: systemClock, random })),
    );
    const verify = { ...verifyOptions(systemClock), referenceValues: { sim: [simReferenceValues("ab".repeat(32))] } };
    await expectRefused(s.port, s.received, "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED", verify);
  });

  it("wrong reference values: another measurement", async () => {
    const s = await serverWith(async (nonce) =>
      pem(await createAtlsCertificate({ issuer: issuer(), nonce, clock: systemClock, random })),
    );
    const entry = { ...simReferenceValues(authority().arkKeyDigest), TrustedMeasurement: "cd".repeat(48) };
    const verify = { ...verifyOptions(systemClock), referenceValues: { sim: [entry] } };
    await expectRefused(s.port, s.received, "ATTESTATION_MEASUREMENT_MISMATCH", verify);
  });

  it("a policy hash that is not allowed (ATLS_HOST_DATA_NOT_ALLOWED)", async () => {
    const other = simIssuer(authority(), { measurement: MEASUREMENT, hostData: random(32) });
    const s = await serverWith(async (nonce) =>
      pem(await createAtlsCertificate({ issuer: other, nonce, clock: systemClock, random })),
    );
    await expectRefused(s.port, s.received, "ATLS_HOST_DATA_NOT_ALLOWED");
  });

  it("an expired certificate: the client's clock is past the ± 2 h window (ATLS_CERTIFICATE_NOT_VALID_AT_TIME)", async () => {
    const s = await serverWith(async (nonce) =>
      pem(await createAtlsCertificate({ issuer: issuer(), nonce, clock: systemClock, random })),
    );
    const later = manualClock(Date.now() + 2 * 3_600_000 + 60_000);
    await expectRefused(s.port, s.received, "ATLS_CERTIFICATE_NOT_VALID_AT_TIME", verifyOptions(later));
  });

  it("a server with an ordinary CA-issued certificate made by openssl", async () => {
    const dir = (await import("node:fs")).mkdtempSync(`${(await import("node:os")).tmpdir()}/atls-plain-`);
    const { keyPath, certPath } = opensslSelfSigned(dir, "plain");
    const { readFileSync } = await import("node:fs");
    const key = readFileSync(keyPath, "utf8");
    const cert = readFileSync(certPath, "utf8");
    const s = await serverWith(async () => ({ key, cert }));
    await expectRefused(s.port, s.received, "ATLS_EVIDENCE_MISSING");
  });
});

describe("the client's nonce", () => {
  it("is fresh per connection, sent in SNI (base64) and ALPN (hex), and the one the evidence binds", async () => {
    const seen: string[] = [];
    const s = await serverWith(async (nonce) => {
      seen.push(toHex(nonce));
      return pem(await createAtlsCertificate({ issuer: issuer(), nonce, clock: systemClock, random }));
    });
    const a = await atlsConnect("127.0.0.1", s.port, { verify: verifyOptions(systemClock), random });
    const b = await atlsConnect("127.0.0.1", s.port, { verify: verifyOptions(systemClock), random });
    a.socket.destroy();
    b.socket.destroy();
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    const rd = reportData(a.server.publicKeyDer, new Uint8Array(Buffer.from(seen[0] as string, "hex")));
    expect(toHex(a.server.evidence.reportData)).toBe(toHex(rd));
  });
});

describe("the client's evidence cache", () => {
  it("is shared by connections that bring none: a second connection verifies no chain, yet is judged in full", async () => {
    const s = await serverWith(async (nonce) =>
      pem(await createAtlsCertificate({ issuer: issuer(), nonce, clock: systemClock, random })),
    );
    const first = await atlsConnect("127.0.0.1", s.port, { verify: verifyOptions(systemClock), random });
    first.socket.destroy();
    const chainChecks = vi.spyOn(X509Certificate.prototype, "verify");
    try {
      const second = await atlsConnect("127.0.0.1", s.port, { verify: verifyOptions(systemClock), random });
      second.socket.destroy();
      // Only the server's self-signed aTLS certificate is checked; the ARK -> ASK -> VCEK chain is not.
      expect(chainChecks.mock.calls.length).toBeLessThanOrEqual(1);
    } finally {
      chainChecks.mockRestore();
    }
    // Sharing does not make another client's judgement lax: other reference values still refuse.
    const other = createSimulatedAuthority({ clock: manualClock("2026-12-01T00:00:00Z"), rsaModulusLength: 2048 });
    await expect(
      atlsConnect("127.0.0.1", s.port, { verify: verifyOptions(systemClock, other), random }),
    ).rejects.toMatchObject({ code: "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED" });
  });
});
