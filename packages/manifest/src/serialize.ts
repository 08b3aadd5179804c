import { compareUtf8, type JsonWritable, stringifyJson, utf8 } from "@contrast/core";
import type {
  Manifest,
  PolicyEntry,
  SimReferenceValues,
  SNPReferenceValues,
  SnpGuestPolicy,
  SnpPlatformInfo,
  TDXReferenceValues,
} from "./types.js";

type Fields = Map<string, JsonWritable>;

/**
 * Writes the manifest as upstream's `generate` does: Go's MarshalIndent with two spaces, struct
 * fields in declaration order, map keys sorted, a trailing newline. The Coordinator hashes these
 * exact bytes, so two tools that write the same manifest must agree on every byte.
 */
export function serializeManifest(m: Manifest): string {
  const policies =
    m.Policies === null
      ? null
      : new Map([...m.Policies.entries()].sort(([a], [b]) => compareUtf8(a, b)).map(([k, v]) => [k, policyEntry(v)]));
  const rv = m.ReferenceValues;
  const doc: Fields = new Map<string, JsonWritable>([
    ["Policies", policies],
    [
      "ReferenceValues",
      new Map<string, JsonWritable>([
        // omitempty: empty lists are left out.
        ["snp", rv.snp.length > 0 ? rv.snp.map(snp) : undefined],
        ["tdx", rv.tdx.length > 0 ? rv.tdx.map(tdx) : undefined],
        ["sim", rv.sim.length > 0 ? rv.sim.map(sim) : undefined],
      ]),
    ],
    ["WorkloadOwnerKeyDigests", m.WorkloadOwnerKeyDigests],
    ["SeedshareOwnerPubKeys", m.SeedshareOwnerPubKeys],
  ]);
  return `${stringifyJson(doc)}\n`;
}

export function serializeManifestBytes(m: Manifest): Uint8Array {
  return utf8(serializeManifest(m));
}

function policyEntry(e: PolicyEntry): Fields {
  return new Map<string, JsonWritable>([
    ["SANs", e.SANs],
    ["WorkloadSecretID", e.WorkloadSecretID === "" ? undefined : e.WorkloadSecretID],
    ["Role", e.Role === "" ? undefined : e.Role],
  ]);
}

function snpFields(r: SNPReferenceValues): [string, JsonWritable][] {
  return [
    [
      "MinimumTCB",
      new Map<string, JsonWritable>([
        ["BootloaderVersion", r.MinimumTCB.BootloaderVersion],
        ["TEEVersion", r.MinimumTCB.TEEVersion],
        ["SNPVersion", r.MinimumTCB.SNPVersion],
        ["MicrocodeVersion", r.MinimumTCB.MicrocodeVersion],
      ]),
    ],
    ["ProductName", r.ProductName],
    ["TrustedMeasurement", r.TrustedMeasurement],
    ["GuestPolicy", guestPolicy(r.GuestPolicy)],
    // Upstream's struct order; absent in v1.5 manifests and then left out.
    ["PlatformInfo", r.PlatformInfo === undefined ? undefined : platformInfo(r.PlatformInfo)],
    ["MinimumMitigationVector", r.MinimumMitigationVector],
    ["AllowedChipIDs", r.AllowedChipIDs],
  ];
}

function snp(r: SNPReferenceValues): Fields {
  return new Map(snpFields(r));
}

function sim(r: SimReferenceValues): Fields {
  return new Map<string, JsonWritable>([["ArkKeyDigest", r.ArkKeyDigest], ...snpFields(r)]);
}

function guestPolicy(p: SnpGuestPolicy): Fields {
  return new Map<string, JsonWritable>([
    ["ABIMinor", p.ABIMinor],
    ["ABIMajor", p.ABIMajor],
    ["SMT", p.SMT],
    ["MigrateMA", p.MigrateMA],
    ["Debug", p.Debug],
    ["SingleSocket", p.SingleSocket],
    ["CXLAllowed", p.CXLAllowed],
    ["MemAES256XTS", p.MemAES256XTS],
    ["RAPLDis", p.RAPLDis],
    ["CipherTextHidingDRAM", p.CipherTextHidingDRAM],
    ["PageSwapDisable", p.PageSwapDisable],
  ]);
}

function platformInfo(p: SnpPlatformInfo): Fields {
  return new Map<string, JsonWritable>([
    ["SMTEnabled", p.SMTEnabled],
    ["TSMEEnabled", p.TSMEEnabled],
    ["ECCEnabled", p.ECCEnabled],
    ["RAPLDisabled", p.RAPLDisabled],
    ["CiphertextHidingDRAMEnabled", p.CiphertextHidingDRAMEnabled],
    ["AliasCheckComplete", p.AliasCheckComplete],
    ["TIOEnabled", p.TIOEnabled],
  ]);
}

function tdx(r: TDXReferenceValues): Fields {
  // Newer fields (undefined: left out) sit where upstream's struct puts them relative to the
  // v1.5 fields: MinTCBEvaluationDataNumber before MrTd, AllowedPIIDs after Xfam.
  return new Map<string, JsonWritable>([
    ["MinTCBEvaluationDataNumber", r.MinTCBEvaluationDataNumber],
    ["MrTd", r.MrTd],
    ["Rtrms", r.Rtrms],
    ["MinimumQeSvn", r.MinimumQeSvn],
    ["MinimumPceSvn", r.MinimumPceSvn],
    ["MinimumTeeTcbSvn", r.MinimumTeeTcbSvn],
    ["MrSeam", r.MrSeam],
    ["TdAttributes", r.TdAttributes],
    ["Xfam", r.Xfam],
    ["AllowedPIIDs", r.AllowedPIIDs],
  ]);
}
