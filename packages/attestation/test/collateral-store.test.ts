import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromHex, type Logger, manualClock } from "@contrast/core";
import { testdataPath } from "@contrast/testkit";
import { parseCrl } from "@contrast/x509";
import { describe, expect, it } from "vitest";
import { CollateralStore, directoryStorage, type FetchedDocument } from "../src/collateral/store.js";
import { kdsCertChainUrl, kdsCrlUrl, kdsVcekUrl, pcsPckCrlUrl, pcsTcbInfoUrl } from "../src/collateral/urls.js";

const TDX_DIR = testdataPath("attestation/tdx");

describe("vendor URLs", () => {
  it("builds the KDS VCEK URL go-sev-guest's test serves S1's VCEK at", () => {
    const chip = fromHex(
      "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d",
    );
    expect(kdsVcekUrl("Milan", chip, { bootloader: 2, tee: 0, snp: 5, microcode: 68 })).toBe(
      "https://kdsintf.amd.com/vcek/v1/Milan/3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68",
    );
  });

  it("uses 8 bytes of the chip ID and fmcSPL for Turin", () => {
    const chip = new Uint8Array(64);
    chip.set(fromHex("1e550a8ee5cf9f4d"));
    expect(kdsVcekUrl("Turin", chip, { fmc: 0, bootloader: 0, tee: 0, snp: 0, microcode: 9 })).toBe(
      "https://kdsintf.amd.com/vcek/v1/Turin/1e550a8ee5cf9f4d?fmcSPL=0&blSPL=0&teeSPL=0&snpSPL=0&ucodeSPL=9",
    );
  });

  it("names the chain, CRL and PCS endpoints", () => {
    expect(kdsCertChainUrl("Genoa", "vlek")).toBe("https://kdsintf.amd.com/vlek/v1/Genoa/cert_chain");
    expect(kdsCrlUrl("Milan", "vcek")).toBe("https://kdsintf.amd.com/vcek/v1/Milan/crl");
    expect(pcsTcbInfoUrl("B0C06F000000")).toBe(
      "https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=b0c06f000000",
    );
    expect(pcsPckCrlUrl("platform")).toBe(
      "https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
    );
  });
});

describe("CollateralStore", () => {
  const crl = new Uint8Array(readFileSync(join(TDX_DIR, "gtg-pckcrl-platform.der")));
  const url = pcsPckCrlUrl("platform");
  const freshUntil = (d: FetchedDocument) => parseCrl(d.body).nextUpdate;

  function setup(start = "2023-06-10T00:00:00Z") {
    const clock = manualClock(start);
    const dir = mkdtempSync(join(tmpdir(), "collateral-"));
    const calls: string[] = [];
    let down = false;
    const warnings: string[] = [];
    const log: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} };
    const fetcher = async (u: string): Promise<FetchedDocument> => {
      calls.push(u);
      if (down) throw new Error("ECONNREFUSED");
      return { body: crl, headers: { "sgx-pck-crl-issuer-chain": "pem" } };
    };
    const store = new CollateralStore({ clock, storage: directoryStorage(dir), fetcher, log });
    return { clock, dir, calls, warnings, store, setDown: (v: boolean) => (down = v) };
  }

  it("serves fresh copies from the cache and refetches once they are stale", async () => {
    const t = setup();
    await t.store.get(url, freshUntil);
    await t.store.get(url, freshUntil);
    expect(t.calls).toHaveLength(1);
    t.clock.set("2023-07-09T00:00:00Z"); // past the CRL's nextUpdate (2023-07-08)
    const doc = await t.store.get(url, freshUntil);
    expect(t.calls).toHaveLength(2);
    expect(doc.headers["sgx-pck-crl-issuer-chain"]).toBe("pem");
    expect(readdirSync(t.dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("serves a stale copy with a warning when the vendor is down, and fails clearly without one", async () => {
    const t = setup();
    await t.store.get(url, freshUntil);
    t.clock.set("2023-07-09T00:00:00Z");
    t.setDown(true);
    const doc = await t.store.get(url, freshUntil);
    expect(Buffer.from(doc.body).equals(Buffer.from(crl))).toBe(true);
    expect(t.warnings).toEqual(["vendor unreachable; using stale cached collateral"]);
    await expect(t.store.get("https://kdsintf.amd.com/vcek/v1/Milan/crl")).rejects.toMatchObject({
      code: "COLLATERAL_UNAVAILABLE",
    });
  });

  it("works offline from a bundle that an online store filled", async () => {
    const t = setup();
    await t.store.get(url, freshUntil);
    const offline = new CollateralStore({
      clock: manualClock("2023-06-20T00:00:00Z"),
      storage: directoryStorage(t.dir),
    });
    expect((await offline.get(url, freshUntil)).body.length).toBe(crl.length);
    await expect(offline.get(pcsTcbInfoUrl("00a06d080000"))).rejects.toMatchObject({ code: "COLLATERAL_UNAVAILABLE" });
  });

  it("refetches over a damaged cache entry", async () => {
    const t = setup();
    await t.store.get(url, freshUntil);
    writeFileSync(join(t.dir, CollateralStore.key(url)), "{not json");
    await t.store.get(url, freshUntil);
    expect(t.calls).toHaveLength(2);
    expect(t.warnings).toEqual(["ignoring a damaged collateral cache entry"]);
  });
});
