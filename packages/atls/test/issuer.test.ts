import { parseSnpCertTable, type TsmFileSystem } from "@contrast/attestation";
import { systemClock, toHex } from "@contrast/core";
import { expectCodeAsync } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { createAtlsCertificate, tsmIssuer, verifyAtlsCertificate } from "../src/index.js";
import { authority, MEASUREMENT, POLICY_HASH, random, verifyOptions } from "./helpers.js";

const GUIDS = {
  vcek: "63da758d-e664-4564-adc5-f4b93be8accd",
  ask: "4ab7b379-bbac-4fe4-a02f-05aef327c782",
  ark: "c0b406a4-a803-4952-9743-3fb6014cd0ae",
};

/** The GHCB certificate table: 24-byte entries (GUID, offset, length), a zero entry, the certs. */
function certTable(certs: [string, Uint8Array][]): Uint8Array {
  const header = (certs.length + 1) * 24;
  const total = header + certs.reduce((n, [, c]) => n + c.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  let offset = header;
  certs.forEach(([guid, cert], i) => {
    const hex = guid.replaceAll("-", "");
    const b = Buffer.from(hex, "hex");
    // The first three GUID fields are little-endian in the table.
    const mixed = Buffer.concat([
      b.subarray(0, 4).reverse(),
      b.subarray(4, 6).reverse(),
      b.subarray(6, 8).reverse(),
      b.subarray(8),
    ]);
    out.set(mixed, i * 24);
    v.setUint32(i * 24 + 16, offset, true);
    v.setUint32(i * 24 + 20, cert.length, true);
    out.set(cert, offset);
    offset += cert.length;
  });
  return out;
}

/** A configfs-tsm "kernel" whose sev_guest provider is the simulated TEE. */
function fakeKernel(provider = "sev_guest"): TsmFileSystem {
  const files = new Map<string, Uint8Array>();
  const dirs = new Set<string>(["/tsm"]);
  const a = authority();
  return {
    exists: async (p) => dirs.has(p) || files.has(p),
    mkdir: async (p) => {
      dirs.add(p);
      files.set(`${p}/generation`, new TextEncoder().encode("1\n"));
      files.set(`${p}/provider`, new TextEncoder().encode(`${provider}\n`));
    },
    rmdir: async (p) => {
      dirs.delete(p);
    },
    writeFile: async (p, d) => {
      files.set(p, d);
      if (p.endsWith("/inblob")) {
        const dir = p.slice(0, -"/inblob".length);
        files.set(`${dir}/outblob`, a.report({ reportData: d, measurement: MEASUREMENT, hostData: POLICY_HASH }));
        files.set(
          `${dir}/auxblob`,
          certTable([
            [GUIDS.vcek, a.vcek],
            [GUIDS.ask, new Uint8Array(a.roots.ask.raw)],
            [GUIDS.ark, new Uint8Array(a.roots.ark.raw)],
          ]),
        );
      }
    },
    readFile: async (p) => {
      const f = files.get(p);
      if (f === undefined) throw new Error(`ENOENT ${p}`);
      return f;
    },
  };
}

describe("tsmIssuer", () => {
  it("the certificate table builder matches attestation's parser (control)", () => {
    const t = parseSnpCertTable(certTable([[GUIDS.vcek, authority().vcek]]));
    expect(toHex(t.get(GUIDS.vcek) as Uint8Array)).toBe(toHex(authority().vcek));
  });

  it("turns an SNP report and the host's certificates into an evidence document the verifier accepts", async () => {
    const issuer = tsmIssuer("snp", { fs: fakeKernel(), root: "/tsm", random });
    expect(issuer.oid).toBe("1.3.9901.2.1");
    const nonce = random(32);
    const cert = await createAtlsCertificate({ issuer, nonce, clock: systemClock, random });
    const peer = await verifyAtlsCertificate(cert.certificateDer, nonce, verifyOptions(systemClock));
    expect(toHex(peer.evidence.hostData)).toBe(toHex(POLICY_HASH));
  });

  it("refuses a kernel provider of the other platform instead of falling back (ATLS_ISSUER_FAILED)", async () => {
    await expectCodeAsync(
      () => tsmIssuer("tdx", { fs: fakeKernel("sev_guest"), root: "/tsm", random }).issue(random(64)),
      "ATLS_ISSUER_FAILED",
    );
  });

  it("passes the kernel's own error through (TSM_UNAVAILABLE outside a confidential VM)", async () => {
    await expectCodeAsync(
      () => tsmIssuer("snp", { fs: fakeKernel(), root: "/no-tsm-here", random }).issue(random(64)),
      "TSM_UNAVAILABLE",
    );
  });
});
