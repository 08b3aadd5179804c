import { describe, expect, it } from "vitest";
import { hasErrors } from "../src/issues.js";
import { parseManifest } from "../src/manifest.js";
import { serializeManifest } from "../src/serialize.js";
import type { Manifest } from "../src/types.js";
import { fixture } from "./fixtures.js";

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const V15 = text(fixture("v1.5-k3s-qemu-tdx.json"));

/** The v1.5 TDX fixture with lines added where Go's MarshalIndent would write them. */
function withNewerFields(min: string, piids: string): string {
  return V15.replace(
    '      {\n        "MrTd"',
    `      {\n        "MinTCBEvaluationDataNumber": ${min},\n        "MrTd"`,
  ).replace('"Xfam": "e702060000000000"\n', `"Xfam": "e702060000000000",\n        "AllowedPIIDs": ${piids}\n`);
}

const codes = (json: string) => parseManifest(json).issues.map((i) => `${i.path} ${i.code} ${i.severity}`);

describe("TDX reference values of newer releases: MinTCBEvaluationDataNumber and AllowedPIIDs", () => {
  it("v1.5 manifests read as before: neither field appears in the model or the output", () => {
    const tdx = parseManifest(V15).manifest?.ReferenceValues.tdx[0];
    expect(tdx && Object.hasOwn(tdx, "MinTCBEvaluationDataNumber")).toBe(false);
    expect(tdx && Object.hasOwn(tdx, "AllowedPIIDs")).toBe(false);
    expect(serializeManifest(parseManifest(V15).manifest as Manifest)).toBe(V15);
  });

  it("reads both fields and writes them back byte for byte, in upstream's field order", () => {
    const json = withNewerFields("18", '[\n          "02eaf5ba6b16c479d53c39d74a1e1999"\n        ]');
    const result = parseManifest(json);
    expect(result.issues).toEqual([]);
    expect(result.manifest?.ReferenceValues.tdx[0]).toMatchObject({
      MinTCBEvaluationDataNumber: 18,
      AllowedPIIDs: ["02eaf5ba6b16c479d53c39d74a1e1999"],
    });
    expect(serializeManifest(result.manifest as Manifest)).toBe(json);
    // Go writes a nil slice as null and an unset int as 0: both read back unchanged.
    const zero = withNewerFields("0", "null");
    expect(parseManifest(zero).issues).toEqual([]);
    expect(serializeManifest(parseManifest(zero).manifest as Manifest)).toBe(zero);
  });

  it("validates the values", () => {
    expect(codes(withNewerFields("-1", "null"))).toEqual([
      "ReferenceValues.tdx[0].MinTCBEvaluationDataNumber MANIFEST_NUMBER_OUT_OF_RANGE error",
    ]);
    expect(codes(withNewerFields('"17"', "null"))).toEqual([
      "ReferenceValues.tdx[0].MinTCBEvaluationDataNumber MANIFEST_WRONG_TYPE error",
    ]);
    expect(codes(withNewerFields("17", '["02eaf5ba", "zz"]'))).toEqual([
      "ReferenceValues.tdx[0].AllowedPIIDs[0] MANIFEST_HEX_WRONG_LENGTH error",
      "ReferenceValues.tdx[0].AllowedPIIDs[1] MANIFEST_HEX_INVALID error",
    ]);
  });
});

describe("TDX TdAttributes", () => {
  const td = (attributes: string) =>
    V15.replace('"TdAttributes": "0000001000000000"', `"TdAttributes": "${attributes}"`);

  it("forbids DEBUG (bit 0), as GuestPolicy.Debug is forbidden for SNP", () => {
    const result = parseManifest(td("0100001000000000"));
    expect(hasErrors(result.issues)).toBe(true);
    expect(codes(td("0100001000000000"))).toEqual([
      "ReferenceValues.tdx[0].TdAttributes MANIFEST_TD_ATTRIBUTES_INSECURE error",
    ]);
  });

  it("warns about other attributes than Contrast's SEPT_VE_DISABLE", () => {
    expect(codes(td("0000004000000000"))).toEqual([
      "ReferenceValues.tdx[0].TdAttributes MANIFEST_TD_ATTRIBUTES_UNUSUAL warning",
    ]);
  });
});
