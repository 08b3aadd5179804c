import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixedClock, toHex } from "@contrast/core";
import { describe, expect, it } from "vitest";
import {
  buildSnpCertTable,
  issueTsmReport,
  nodeTsmFileSystem,
  parseSnpCertTable,
  SNP_CERT_GUIDS,
  type TsmFileSystem,
} from "../src/issuer/configfs-tsm.js";
import { createSimulatedAuthority } from "../src/sim/tee.js";
import { verifySnpReport } from "../src/snp/verify.js";
import { snpFile } from "./vectors.js";

const clock = fixedClock("2026-11-22T00:00:00Z");
const sim = createSimulatedAuthority({ clock, rsaModulusLength: 2048 });

/**
 * A directory on disk that plays the kernel: mkdir makes the attributes appear; writing inblob
 * makes outblob a fresh signed report for that data and bumps the generation counter.
 */
function fakeKernel(options: { raceOnRead?: boolean; provider?: string } = {}): { root: string; fs: TsmFileSystem } {
  const root = mkdtempSync(join(tmpdir(), "tsm-"));
  const generation = new Map<string, number>();
  const bump = (dir: string) => {
    const g = (generation.get(dir) ?? 0) + 1;
    generation.set(dir, g);
    writeFileSync(join(dir, "generation"), `${g}\n`);
  };
  const fs: TsmFileSystem = {
    ...nodeTsmFileSystem,
    async mkdir(path) {
      mkdirSync(path);
      writeFileSync(join(path, "provider"), `${options.provider ?? "sev_guest"}\n`);
      bump(path);
    },
    async writeFile(path, data) {
      writeFileSync(path, data);
      const dir = join(path, "..");
      if (path.endsWith("inblob")) {
        const report = sim.report({ reportData: data, measurement: new Uint8Array(48), hostData: new Uint8Array(32) });
        writeFileSync(join(dir, "outblob"), report);
        writeFileSync(join(dir, "auxblob"), buildSnpCertTable(new Map([[SNP_CERT_GUIDS.vcek, sim.vcek]])));
      }
      bump(dir);
    },
    async readFile(path) {
      const data = new Uint8Array(readFileSync(path));
      if (options.raceOnRead && path.endsWith("outblob")) bump(join(path, ".."));
      return data;
    },
    async rmdir(path) {
      for (const f of readdirSync(path)) rmSync(join(path, f));
      rmdirSync(path);
    },
  };
  return { root, fs };
}

describe("configfs-tsm issuer", () => {
  it("gets a report for the given data, with the host's certificates, and cleans up", async () => {
    const { root, fs } = fakeKernel();
    const reportData = new Uint8Array(64).fill(0x5a);
    const r = await issueTsmReport(reportData, { fs, root, privlevel: 0 });
    expect(r.provider).toBe("sev_guest");
    const vcek = parseSnpCertTable(r.auxblob as Uint8Array).get(SNP_CERT_GUIDS.vcek) as Uint8Array;
    const v = verifySnpReport({ report: r.outblob, endorsementKey: vcek, now: clock.now(), roots: sim.roots });
    expect(toHex(v.report.reportData)).toBe("5a".repeat(64));
    expect(readdirSync(root)).toEqual([]);
  });

  it("detects a concurrent writer through the generation counter", async () => {
    const { root, fs } = fakeKernel({ raceOnRead: true });
    await expect(issueTsmReport(new Uint8Array(64), { fs, root })).rejects.toMatchObject({ code: "TSM_RACE" });
    expect(readdirSync(root)).toEqual([]);
  });

  it("says clearly when there is no configfs-tsm", async () => {
    await expect(issueTsmReport(new Uint8Array(64), { root: "/nonexistent/tsm/report" })).rejects.toMatchObject({
      code: "TSM_UNAVAILABLE",
    });
    await expect(issueTsmReport(new Uint8Array(63))).rejects.toMatchObject({ code: "TSM_REPORT_DATA_INVALID" });
  });
});

describe("SNP certificate table", () => {
  it("round-trips and decodes GUIDs in firmware byte order", () => {
    const vcek = snpFile("virtee-milan-vcek.der");
    const table = buildSnpCertTable(
      new Map([
        [SNP_CERT_GUIDS.vcek, vcek],
        [SNP_CERT_GUIDS.ask, new Uint8Array([1, 2, 3])],
      ]),
    );
    // The VCEK GUID 63da758d-... is stored little-endian in its first field: 8d 75 da 63.
    expect(toHex(table.subarray(0, 4))).toBe("8d75da63");
    const parsed = parseSnpCertTable(table);
    expect(toHex(parsed.get(SNP_CERT_GUIDS.vcek) as Uint8Array)).toBe(toHex(vcek));
    expect([...parsed.keys()]).toEqual([SNP_CERT_GUIDS.vcek, SNP_CERT_GUIDS.ask]);
  });

  it("rejects tables without a terminator or with entries outside the table", () => {
    const table = buildSnpCertTable(new Map([[SNP_CERT_GUIDS.vcek, new Uint8Array(10)]]));
    expect(() => parseSnpCertTable(table.subarray(0, 30))).toThrow(
      expect.objectContaining({ code: "SNP_CERT_TABLE_MALFORMED" }),
    );
    const bad = new Uint8Array(table);
    new DataView(bad.buffer).setUint32(20, 1000, true);
    expect(() => parseSnpCertTable(bad)).toThrow(expect.objectContaining({ code: "SNP_CERT_TABLE_MALFORMED" }));
  });
});
