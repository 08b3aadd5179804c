import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManifestError } from "../src/error.js";
import { hasErrors } from "../src/issues.js";
import { loadManifest, manifestHash, parseManifest } from "../src/manifest.js";
import { simReferenceValues } from "../src/platforms.js";
import { serializeManifest } from "../src/serialize.js";
import type { Manifest } from "../src/types.js";
import { fixture, TESTDATA } from "./fixtures.js";

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const codes = (r: { issues: readonly { code: string; path: string }[] }) => r.issues.map((i) => `${i.path} ${i.code}`);

describe("v1.5 manifests", () => {
  it.each(["v1.5-metal-qemu-snp.json", "v1.5-k3s-qemu-tdx.json", "v1.5-bare-metal-unfilled.json"])(
    "%s reads and writes back byte-identically",
    (name) => {
      const bytes = fixture(name);
      const result = parseManifest(bytes);
      expect(hasErrors(result.issues)).toBe(false);
      expect(result.canonical).toBe(true);
      expect(serializeManifest(result.manifest as Manifest)).toBe(text(bytes));
    },
  );

  it("exposes the model with upstream's JSON names", () => {
    const { manifest } = loadManifest(fixture("v1.5-metal-qemu-snp.json"));
    expect(manifest.Policies?.size).toBe(5);
    const coordinator = manifest.Policies?.get("7a9dcc4f9779040769e196a609287d84a1afa2db16bee093d2dc9c16984fb019");
    expect(coordinator).toEqual({
      SANs: ["coordinator", "*"],
      WorkloadSecretID: "apps/v1/StatefulSet/emojivoto/coordinator",
      Role: "coordinator",
    });
    expect(manifest.ReferenceValues.snp.map((s) => s.ProductName)).toEqual(["Milan", "Genoa"]);
    expect(manifest.ReferenceValues.snp[1]?.MinimumTCB).toEqual({
      BootloaderVersion: 9,
      TEEVersion: 0,
      SNPVersion: 21,
      MicrocodeVersion: 72,
    });
    const tdx = loadManifest(fixture("v1.5-k3s-qemu-tdx.json")).manifest.ReferenceValues.tdx[0];
    expect(tdx?.Rtrms).toHaveLength(4);
    expect(tdx?.MinimumQeSvn).toBe(8);
  });

  it("reports bare-metal gaps as expected-missing, not as errors", () => {
    const result = parseManifest(fixture("v1.5-bare-metal-unfilled.json"));
    expect(result.issues.every((i) => i.severity === "expected-missing")).toBe(true);
    expect(codes(result)).toEqual([
      "ReferenceValues.snp[0].MinimumTCB.BootloaderVersion MANIFEST_VALUE_EXPECTED_MISSING",
      "ReferenceValues.snp[0].MinimumTCB.TEEVersion MANIFEST_VALUE_EXPECTED_MISSING",
      "ReferenceValues.snp[0].MinimumTCB.SNPVersion MANIFEST_VALUE_EXPECTED_MISSING",
      "ReferenceValues.snp[0].MinimumTCB.MicrocodeVersion MANIFEST_VALUE_EXPECTED_MISSING",
      "ReferenceValues.tdx[0].MrSeam MANIFEST_VALUE_EXPECTED_MISSING",
    ]);
    expect(() => loadManifest(fixture("v1.5-bare-metal-unfilled.json"))).not.toThrow();
  });

  it("hashes the raw bytes, as openssl does", () => {
    const file = join(TESTDATA, "v1.5-metal-qemu-snp.json");
    const openssl = execFileSync("openssl", ["dgst", "-sha256", "-r", file]).toString().split(" ")[0];
    expect(parseManifest(fixture("v1.5-metal-qemu-snp.json")).hash).toBe(openssl);
    expect(manifestHash(fixture("v1.5-metal-qemu-snp.json"))).toBe(openssl);
  });

  it("accepts a valid but non-canonical file without rewriting it", () => {
    const bytes = fixture("v1.5-metal-qemu-snp.json");
    const compact = JSON.stringify(JSON.parse(text(bytes)));
    const result = parseManifest(compact);
    expect(hasErrors(result.issues)).toBe(false);
    expect(result.canonical).toBe(false);
    expect(result.hash).toBe(manifestHash(compact));
    expect(result.hash).not.toBe(manifestHash(bytes));
    expect(serializeManifest(result.manifest as Manifest)).toBe(text(bytes));
  });
});

describe("broken manifests", () => {
  it("lists every problem at once, each with a code, path and hint", () => {
    const result = parseManifest(fixture("broken.json"));
    expect(result.issues.every((i) => i.hint.length > 0)).toBe(true);
    expect(codes(result)).toEqual(
      expect.arrayContaining([
        "policies MANIFEST_UNKNOWN_FIELD",
        "Policies.b15e7b9a6e9dec3a87d621c8767c93e09c808bf67d91d92b23536c18a704f122.SANs MANIFEST_WRONG_TYPE",
        "ReferenceValues.snp[0].MinimumTCB.BootloaderVersion MANIFEST_NUMBER_OUT_OF_RANGE",
        "ReferenceValues.snp[0].MinimumTCB.SNPVersion MANIFEST_NUMBER_OUT_OF_RANGE",
        "ReferenceValues.snp[0].MinimumTCB.MicrocodeVersion MANIFEST_WRONG_TYPE",
        "ReferenceValues.tdx[0].Rtmrs MANIFEST_UNKNOWN_FIELD",
        "ReferenceValues.tdx[0].MinimumQeSvn MANIFEST_NUMBER_OUT_OF_RANGE",
        'Policies["not-a-hash"] MANIFEST_HEX_INVALID',
        'Policies["not-a-hash"].Role MANIFEST_ROLE_INVALID',
        'Policies["not-a-hash"].SANs[1] MANIFEST_SAN_INVALID',
        "ReferenceValues.snp[0].ProductName MANIFEST_PRODUCT_NAME_UNKNOWN",
        "ReferenceValues.snp[0].TrustedMeasurement MANIFEST_HEX_INVALID",
        "ReferenceValues.snp[0].GuestPolicy.Debug MANIFEST_GUEST_POLICY_INSECURE",
        "ReferenceValues.tdx[0].MrTd MANIFEST_HEX_INVALID",
        "ReferenceValues.tdx[0].Rtrms[0] MANIFEST_VALUE_REQUIRED",
        "ReferenceValues.tdx[0].MinimumPceSvn MANIFEST_VALUE_REQUIRED",
        "ReferenceValues.tdx[0].MinimumTeeTcbSvn MANIFEST_HEX_WRONG_LENGTH",
        "WorkloadOwnerKeyDigests[0] MANIFEST_HEX_WRONG_LENGTH",
        "SeedshareOwnerPubKeys[0] MANIFEST_SEEDSHARE_KEY_INVALID",
      ]),
    );
    // A value that failed to decode is reported once, not again as "missing".
    expect(
      codes(result).filter((c) => c.startsWith("ReferenceValues.snp[0].MinimumTCB.BootloaderVersion")),
    ).toHaveLength(1);
    expect(codes(result).filter((c) => c.startsWith("ReferenceValues.tdx[0].MinimumQeSvn"))).toHaveLength(1);
    const rtmrs = result.issues.find((i) => i.path === "ReferenceValues.tdx[0].Rtmrs");
    expect(rtmrs?.hint).toContain("Rtrms");
    const lower = result.issues.find((i) => i.path === "policies");
    expect(lower?.hint).toContain('"Policies"');
  });

  it("loadManifest throws one ManifestError carrying all issues", () => {
    let err: unknown;
    try {
      loadManifest(fixture("broken.json"), { source: "broken.json" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ManifestError);
    const me = err as ManifestError;
    expect(me.code).toBe("MANIFEST_INVALID");
    expect(me.message).toMatch(/^broken\.json is invalid: \d+ errors; first: /);
    expect(me.issues.length).toBeGreaterThan(15);
    expect(me.hint).toContain("contrast manifest validate");
  });

  it.each([
    ["malformed JSON", '{"Policies": {', "MANIFEST_JSON_INVALID", "invalid JSON"],
    ["duplicate keys", '{"Policies": {}, "Policies": null}', "MANIFEST_JSON_INVALID", "duplicate key"],
    ["a top-level array", "[]", "MANIFEST_WRONG_TYPE", "expected an object"],
    ["a string for ReferenceValues", '{"ReferenceValues": "snp"}', "MANIFEST_WRONG_TYPE", "expected an object"],
    ["an old-style SAN list", '{"Policies": {"ab": ["web"]}}', "MANIFEST_WRONG_TYPE", "got an array"],
    ["no reference values", '{"Policies": {}}', "MANIFEST_REFERENCE_VALUES_EMPTY", "cannot be empty"],
    [
      "a wrong Rtrms count",
      '{"ReferenceValues": {"tdx": [{"Rtrms": ["", ""]}]}}',
      "MANIFEST_ARRAY_WRONG_LENGTH",
      "exactly 4",
    ],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), "MANIFEST_JSON_INVALID", "UTF-8"],
  ])("rejects %s", (_, input, code, message) => {
    const result = parseManifest(input);
    const issue = result.issues.find((i) => i.code === code);
    expect(issue, JSON.stringify(result.issues)).toBeDefined();
    expect(issue?.message).toContain(message);
    expect(hasErrors(result.issues)).toBe(true);
  });

  it("reads -0 as 0, so that read-and-write is a fixed point (found by fuzzing)", () => {
    const text = serializeManifest(loadManifest(fixture("v1.5-metal-qemu-snp.json")).manifest);
    const result = parseManifest(text.replace('"TEEVersion": 0', '"TEEVersion": -0'));
    expect(Object.is(result.manifest?.ReferenceValues.snp[0]?.MinimumTCB.TEEVersion, 0)).toBe(true);
    expect(serializeManifest(result.manifest as Manifest)).toBe(text);
  });

  it("refuses huge inputs before parsing", () => {
    const huge = `{"Policies": {${'"a": {},'.repeat(1_200_000)}"b": {}}}`;
    const result = parseManifest(huge);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]?.message).toContain("more than the limit");
    expect(parseManifest("[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]").issues[0]?.message).toContain("nesting deeper");
  });

  it("warns about upper-case policy hashes, which never match HOST_DATA", () => {
    const m = loadManifest(fixture("v1.5-k3s-qemu-tdx.json")).manifest;
    const upper = serializeManifest({
      ...m,
      Policies: new Map([...(m.Policies ?? [])].map(([k, v]) => [k.toUpperCase(), v])),
    });
    const issue = parseManifest(upper).issues.find((i) => i.code === "MANIFEST_HEX_NOT_LOWERCASE");
    expect(issue?.severity).toBe("warning");
  });
});

describe("simulated TEE reference values", () => {
  const ark = "ab".repeat(32);
  const simManifest = (extra: Partial<Manifest["ReferenceValues"]> = {}): string =>
    serializeManifest({
      Policies: new Map(),
      ReferenceValues: { snp: [], tdx: [], sim: [simReferenceValues(ark)], ...extra },
      WorkloadOwnerKeyDigests: null,
      SeedshareOwnerPubKeys: null,
    });

  it("live under ReferenceValues.sim and always carry a loud warning", () => {
    const text = simManifest();
    expect(text).toContain('"sim": [');
    expect(text).not.toContain('"snp"');
    const result = parseManifest(text);
    expect(result.canonical).toBe(true);
    expect(hasErrors(result.issues)).toBe(false);
    expect(result.issues.map((i) => [i.code, i.severity])).toEqual([["MANIFEST_SIMULATED_TEE", "warning"]]);
    expect(result.manifest?.ReferenceValues.sim[0]?.ArkKeyDigest).toBe(ark);
  });

  it("cannot be mixed with hardware reference values", () => {
    const hw = loadManifest(fixture("v1.5-metal-qemu-snp.json")).manifest.ReferenceValues.snp;
    const result = parseManifest(simManifest({ snp: hw }));
    expect(result.issues.map((i) => i.code)).toContain("MANIFEST_SIMULATED_MIXED_WITH_HARDWARE");
    expect(hasErrors(result.issues)).toBe(true);
  });

  it("require the simulated ARK's key digest", () => {
    const text = simManifest().replace(`"ArkKeyDigest": "${ark}"`, '"ArkKeyDigest": ""');
    const issue = parseManifest(text).issues.find((i) => i.path === "ReferenceValues.sim[0].ArkKeyDigest");
    expect(issue?.severity).toBe("error");
  });
});
