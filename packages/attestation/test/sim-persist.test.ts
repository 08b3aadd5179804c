import { KeyObject } from "node:crypto";
import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixedClock, toHex } from "@contrast/core";
import { describe, expect, it } from "vitest";
import { verifySnpReport } from "../src/snp/verify.js";
import {
  createSimulatedAuthority,
  decodeSimulatedAuthority,
  encodeSimulatedAuthority,
  loadSimulatedAuthority,
  nodeSimAuthorityFileSystem,
  openSimulatedAuthority,
  saveSimulatedAuthority,
} from "../src/testing.js";

const clock = fixedClock("2026-12-05T00:00:00Z");
const sim = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
const request = {
  reportData: new Uint8Array(64).fill(0xaa),
  measurement: new Uint8Array(48).fill(0x11),
  hostData: new Uint8Array(32).fill(0x22),
};

describe("saving and loading the simulated TEE", () => {
  it("openSimulatedAuthority: processes opening one directory at once all get the one authority created", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sim-authority-"));
    const path = join(dir, "sim", "authority.json");
    const opened = await Promise.all(
      Array.from({ length: 4 }, () =>
        openSimulatedAuthority(path, nodeSimAuthorityFileSystem, { clock, rsaModulusLength: 2048 }),
      ),
    );
    expect(opened.filter((o) => o.created)).toHaveLength(1);
    expect(new Set(opened.map((o) => o.authority.arkKeyDigest)).size).toBe(1);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // No temporary files are left beside it, and a later open loads it.
    expect(readdirSync(join(dir, "sim"))).toEqual(["authority.json"]);
    const again = await openSimulatedAuthority(path, nodeSimAuthorityFileSystem, { clock });
    expect(again).toMatchObject({ created: false });
    expect(again.authority.arkKeyDigest).toBe(opened[0]?.authority.arkKeyDigest);
  });

  it("a loaded authority has the same trust anchor and chip, and its reports verify against the saved roots", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sim-authority-"));
    const path = join(dir, "state", "sim-authority.json");
    expect(await loadSimulatedAuthority(path, nodeSimAuthorityFileSystem)).toBeUndefined();
    await saveSimulatedAuthority(sim, path, nodeSimAuthorityFileSystem);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const loaded = await loadSimulatedAuthority(path, nodeSimAuthorityFileSystem);
    expect(loaded?.arkKeyDigest).toBe(sim.arkKeyDigest);
    expect(toHex(loaded?.chipId as Uint8Array)).toBe(toHex(sim.chipId));
    expect(loaded?.tcb).toEqual(sim.tcb);
    // A report of the loaded authority verifies with the ORIGINAL authority's roots and VCEK.
    const report = loaded?.report(request) as Uint8Array;
    const v = verifySnpReport({ report, endorsementKey: sim.vcek, now: clock.now(), roots: sim.roots });
    expect(toHex(v.report.chipId)).toBe(toHex(sim.chipId));
    // And the loaded CRL is signed by the same ARK.
    expect(loaded?.crl({ now: clock.now() }).length).toBeGreaterThan(0);
  });

  it("refuses a bundle whose key was swapped, or that is damaged", () => {
    const other = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });
    const a = JSON.parse(encodeSimulatedAuthority(sim)) as Record<string, unknown>;
    const b = JSON.parse(encodeSimulatedAuthority(other)) as Record<string, unknown>;
    const swapped = JSON.stringify({ ...a, vcekKey: b.vcekKey });
    expect(() => decodeSimulatedAuthority(swapped)).toThrow(expect.objectContaining({ code: "SIM_AUTHORITY_INVALID" }));
    expect(() => decodeSimulatedAuthority("{")).toThrow(expect.objectContaining({ code: "SIM_AUTHORITY_INVALID" }));
    expect(() => decodeSimulatedAuthority(JSON.stringify({ ...a, chipId: "00" }))).toThrow(
      expect.objectContaining({ code: "SIM_AUTHORITY_INVALID" }),
    );
    expect(() => decodeSimulatedAuthority(JSON.stringify({ ...a, format: "x" }))).toThrow(
      expect.objectContaining({ code: "SIM_AUTHORITY_INVALID" }),
    );
  });

  it("the bundle on disk is what encode writes, and a truncated file is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sim-authority-"));
    const path = join(dir, "sim.json");
    writeFileSync(path, encodeSimulatedAuthority(sim).slice(0, 200));
    await expect(loadSimulatedAuthority(path, nodeSimAuthorityFileSystem)).rejects.toMatchObject({
      code: "SIM_AUTHORITY_INVALID",
    });
  });

  it("does not expose private keys on the authority object", () => {
    const privateKeys = Object.values(sim).filter((v) => v instanceof KeyObject && v.type === "private");
    expect(privateKeys).toEqual([]);
    expect(JSON.stringify(sim)).not.toContain("PRIVATE KEY");
  });
});
