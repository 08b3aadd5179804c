import { describe, expect, it } from "vitest";
import { parseManifest } from "../src/manifest.js";
import { serializeManifest } from "../src/serialize.js";
import { fixture } from "./fixtures.js";

// Upstream's newer SNP reference values (internal/manifest/referencevalues.go on main) add
// PlatformInfo (go-sev-guest's abi.SnpPlatformInfo, every field written) and
// MinimumMitigationVector (uint64) after GuestPolicy.
const v15 = Buffer.from(fixture("v1.5-metal-qemu-snp.json")).toString("utf8");
const PLATFORM_INFO = `,
        "PlatformInfo": {
          "SMTEnabled": true,
          "TSMEEnabled": false,
          "ECCEnabled": true,
          "RAPLDisabled": false,
          "CiphertextHidingDRAMEnabled": false,
          "AliasCheckComplete": true,
          "TIOEnabled": false
        },
        "MinimumMitigationVector": 3`;
// The fixture's first entry ends with its GuestPolicy; the new fields follow it.
const GUEST_POLICY_END = /("CipherTextHidingDRAM": (?:true|false)\n {8}\})/;
const withNewer = v15.replace(GUEST_POLICY_END, `$1${PLATFORM_INFO}`);
const withFields = (fields: string) => v15.replace(GUEST_POLICY_END, `$1, ${fields}`);

describe("SNP PlatformInfo and MinimumMitigationVector (newer Contrast releases)", () => {
  it("are read, validated and written back byte for byte", () => {
    expect(withNewer).not.toBe(v15);
    const r = parseManifest(withNewer);
    expect(r.issues.filter((i) => i.severity === "error")).toEqual([]);
    const snp = r.manifest?.ReferenceValues.snp[0];
    expect(snp?.PlatformInfo).toEqual({
      SMTEnabled: true,
      TSMEEnabled: false,
      ECCEnabled: true,
      RAPLDisabled: false,
      CiphertextHidingDRAMEnabled: false,
      AliasCheckComplete: true,
      TIOEnabled: false,
    });
    expect(snp?.MinimumMitigationVector).toBe(3);
    expect(r.canonical).toBe(true);
    expect(serializeManifest(r.manifest as never)).toBe(withNewer);
  });

  it("leave v1.5 manifests as they were: absent stays absent", () => {
    const r = parseManifest(v15);
    expect(r.canonical).toBe(true);
    expect(r.manifest?.ReferenceValues.snp[0]).not.toHaveProperty("PlatformInfo");
    expect(r.manifest?.ReferenceValues.snp[0]).not.toHaveProperty("MinimumMitigationVector");
  });

  it("fill a partial PlatformInfo with false, as Go's decoder does", () => {
    const partial = withFields('"PlatformInfo": {"SMTEnabled": false, "ECCEnabled": true}');
    const r = parseManifest(partial);
    expect(r.issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(r.manifest?.ReferenceValues.snp[0]?.PlatformInfo).toMatchObject({
      SMTEnabled: false,
      ECCEnabled: true,
      TIOEnabled: false,
    });
    expect(r.canonical).toBe(false);
  });

  it("refuse wrong types, unknown PlatformInfo fields and vectors JavaScript cannot hold exactly", () => {
    const bad = (fields: string) => parseManifest(withFields(fields)).issues.map((i) => `${i.code} ${i.path}`);
    expect(bad('"PlatformInfo": {"SMT": true}')).toContain(
      "MANIFEST_UNKNOWN_FIELD ReferenceValues.snp[0].PlatformInfo.SMT",
    );
    expect(bad('"PlatformInfo": {"TSMEEnabled": 1}')).toContain(
      "MANIFEST_WRONG_TYPE ReferenceValues.snp[0].PlatformInfo.TSMEEnabled",
    );
    expect(bad('"MinimumMitigationVector": -1')).toContain(
      "MANIFEST_NUMBER_OUT_OF_RANGE ReferenceValues.snp[0].MinimumMitigationVector",
    );
    expect(bad('"MinimumMitigationVector": 18446744073709551615')).toContain(
      "MANIFEST_NUMBER_OUT_OF_RANGE ReferenceValues.snp[0].MinimumMitigationVector",
    );
  });
});
