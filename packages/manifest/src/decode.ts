import { formatJsonPath, type JsonObject, type JsonPath, type JsonValue } from "@contrast/core";
import type { IssueSeverity, ManifestIssue, ManifestIssueCode } from "./issues.js";
import {
  emptyGuestPolicy,
  type Manifest,
  type PolicyEntry,
  type ReferenceValues,
  type SimReferenceValues,
  type SNPReferenceValues,
  type SNPTCB,
  type SnpGuestPolicy,
  type SnpPlatformInfo,
  type TDXReferenceValues,
} from "./types.js";

/** Fields that newer Contrast releases write; named so the hint can say why they are refused. */
const NEWER_FIELDS: Readonly<Record<string, string>> = {
  Rtmrs: 'newer Contrast releases spell this "Rtmrs"; v1.5 manifests use "Rtrms"',
  WorkloadOwnerPubKeys: "newer Contrast releases replaced WorkloadOwnerKeyDigests with this",
  Platform: "reference values name their platform only in newer Contrast releases",
  CPUs: "newer Contrast releases only",
  MemoryIntegrity: "newer Contrast releases only",
  SMTDisabled: "newer Contrast releases only",
  StaticPlatform: "newer Contrast releases only",
};

const GUEST_POLICY_FLAGS = [
  "SMT",
  "MigrateMA",
  "Debug",
  "SingleSocket",
  "CXLAllowed",
  "MemAES256XTS",
  "RAPLDis",
  "CipherTextHidingDRAM",
] as const;
const GUEST_POLICY_FIELDS = ["ABIMinor", "ABIMajor", ...GUEST_POLICY_FLAGS, "PageSwapDisable"];
const TCB_FIELDS = ["BootloaderVersion", "TEEVersion", "SNPVersion", "MicrocodeVersion"] as const;
const PLATFORM_INFO_FIELDS = [
  "SMTEnabled",
  "TSMEEnabled",
  "ECCEnabled",
  "RAPLDisabled",
  "CiphertextHidingDRAMEnabled",
  "AliasCheckComplete",
  "TIOEnabled",
] as const;
const SNP_FIELDS = [
  "MinimumTCB",
  "ProductName",
  "TrustedMeasurement",
  "GuestPolicy",
  "PlatformInfo",
  "MinimumMitigationVector",
  "AllowedChipIDs",
];
const SIM_FIELDS = ["ArkKeyDigest", ...SNP_FIELDS];
const TDX_FIELDS = [
  "MrTd",
  "Rtrms",
  "MinimumQeSvn",
  "MinimumPceSvn",
  "MinimumTeeTcbSvn",
  "MrSeam",
  "TdAttributes",
  "Xfam",
  // Fields of newer releases that this implementation understands; absent in v1.5 manifests.
  "MinTCBEvaluationDataNumber",
  "AllowedPIIDs",
];

/**
 * Turns parsed JSON into the manifest model, reporting every type problem instead of stopping at
 * the first. Absent and `null` values take Go's zero values, as upstream's decoder does; whether a
 * zero value is acceptable is the validator's decision.
 */
export function decodeManifest(json: JsonValue): { manifest: Manifest; issues: ManifestIssue[] } {
  const d = new Decoder();
  const root = d.object(json, [], ["Policies", "ReferenceValues", "WorkloadOwnerKeyDigests", "SeedshareOwnerPubKeys"]);
  const manifest: Manifest = {
    Policies: d.policies(root?.Policies, ["Policies"]),
    ReferenceValues: d.referenceValues(root?.ReferenceValues, ["ReferenceValues"]),
    WorkloadOwnerKeyDigests: d.stringArray(root?.WorkloadOwnerKeyDigests, ["WorkloadOwnerKeyDigests"]),
    SeedshareOwnerPubKeys: d.stringArray(root?.SeedshareOwnerPubKeys, ["SeedshareOwnerPubKeys"]),
  };
  return { manifest, issues: d.issues };
}

function typeName(v: JsonValue | undefined): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

class Decoder {
  readonly issues: ManifestIssue[] = [];

  private report(
    code: ManifestIssueCode,
    path: JsonPath,
    message: string,
    hint: string,
    severity: IssueSeverity = "error",
  ): void {
    this.issues.push({ code, severity, path: formatJsonPath(path), message, hint });
  }

  private wrongType(path: JsonPath, expected: string, v: JsonValue | undefined): void {
    this.report(
      "MANIFEST_WRONG_TYPE",
      path,
      `expected ${expected}, got ${typeName(v)}`,
      "Compare the field with the manifest format in docs/manifest.md.",
    );
  }

  /** An object with known fields; unknown fields are errors because they would be dropped. */
  object(v: JsonValue | undefined, path: JsonPath, fields: readonly string[]): JsonObject | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) {
      this.wrongType(path, "an object", v);
      return undefined;
    }
    for (const key of Object.keys(v)) {
      if (fields.includes(key)) continue;
      const caseMatch = fields.find((f) => f.toLowerCase() === key.toLowerCase());
      const newer = NEWER_FIELDS[key];
      this.report(
        "MANIFEST_UNKNOWN_FIELD",
        [...path, key],
        `unknown field ${JSON.stringify(key)}`,
        caseMatch !== undefined
          ? `Did you mean "${caseMatch}"? Field names are case-sensitive.`
          : newer !== undefined
            ? `This implementation reads Contrast v1.5 manifests: ${newer}.`
            : `Known fields here: ${fields.join(", ")}. Unknown fields would be lost when the manifest is rewritten.`,
      );
    }
    return v;
  }

  string(v: JsonValue | undefined, path: JsonPath): string {
    if (v === undefined || v === null) return "";
    if (typeof v !== "string") {
      this.wrongType(path, "a string", v);
      return "";
    }
    return v;
  }

  bool(v: JsonValue | undefined, path: JsonPath): boolean {
    if (v === undefined || v === null) return false;
    if (typeof v !== "boolean") {
      this.wrongType(path, "true or false", v);
      return false;
    }
    return v;
  }

  /** An unsigned integer of a Go type with the given maximum; `nullable` for Go pointer fields. */
  uint(v: JsonValue | undefined, path: JsonPath, max: number, nullable: true): number | null;
  uint(v: JsonValue | undefined, path: JsonPath, max: number, nullable: false): number;
  uint(v: JsonValue | undefined, path: JsonPath, max: number, nullable: boolean): number | null {
    if (v === undefined || v === null) return nullable ? null : 0;
    if (typeof v !== "number") {
      this.wrongType(path, `an integer from 0 to ${max}`, v);
      return nullable ? null : 0;
    }
    if (!Number.isInteger(v) || v < 0 || v > max) {
      this.report(
        "MANIFEST_NUMBER_OUT_OF_RANGE",
        path,
        `${v} is not an integer from 0 to ${max}`,
        "Version numbers are whole numbers; take them from the attestation report or the release's reference values.",
      );
      return nullable ? null : 0;
    }
    // JSON allows -0; the model holds 0 so that writing it back ("0") reads back equal.
    return v === 0 ? 0 : v;
  }

  stringArray(v: JsonValue | undefined, path: JsonPath): string[] | null {
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v)) {
      this.wrongType(path, "an array of strings", v);
      return null;
    }
    return v.map((item, i) => this.string(item, [...path, i]));
  }

  policies(v: JsonValue | undefined, path: JsonPath): Map<string, PolicyEntry> | null {
    if (v === undefined || v === null) return null;
    if (typeof v !== "object" || Array.isArray(v)) {
      this.wrongType(path, "an object from policy hash to entry", v);
      return null;
    }
    const out = new Map<string, PolicyEntry>();
    for (const [hash, raw] of Object.entries(v)) {
      const p = [...path, hash];
      if (Array.isArray(raw)) {
        this.report(
          "MANIFEST_WRONG_TYPE",
          p,
          "expected an object with SANs, got an array",
          'Manifests from Contrast before v1.0 listed SANs directly; write {"SANs": [...]} instead.',
        );
      }
      const entry = this.object(Array.isArray(raw) ? undefined : raw, p, ["SANs", "WorkloadSecretID", "Role"]);
      out.set(hash, {
        SANs: this.stringArray(entry?.SANs, [...p, "SANs"]),
        WorkloadSecretID: this.string(entry?.WorkloadSecretID, [...p, "WorkloadSecretID"]),
        Role: this.string(entry?.Role, [...p, "Role"]),
      });
    }
    return out;
  }

  referenceValues(v: JsonValue | undefined, path: JsonPath): ReferenceValues {
    const obj = this.object(v, path, ["snp", "tdx", "sim"]);
    return {
      snp: this.array(obj?.snp, [...path, "snp"], (item, p) => this.snpFields(this.object(item, p, SNP_FIELDS), p)),
      tdx: this.array(obj?.tdx, [...path, "tdx"], (item, p) => this.tdx(item, p)),
      sim: this.array(obj?.sim, [...path, "sim"], (item, p) => this.sim(item, p)),
    };
  }

  private array<T>(v: JsonValue | undefined, path: JsonPath, each: (item: JsonValue, path: JsonPath) => T): T[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.wrongType(path, "an array", v);
      return [];
    }
    return v.map((item, i) => each(item, [...path, i]));
  }

  /** The SNP fields of an object already checked by object(); shared by snp and sim entries. */
  private snpFields(o: JsonObject | undefined, path: JsonPath): SNPReferenceValues {
    const tcb = this.object(o?.MinimumTCB, [...path, "MinimumTCB"], TCB_FIELDS);
    const MinimumTCB = Object.fromEntries(
      TCB_FIELDS.map((f) => [f, this.uint(tcb?.[f], [...path, "MinimumTCB", f], 255, true)]),
    ) as unknown as SNPTCB;
    const out: SNPReferenceValues = {
      MinimumTCB,
      ProductName: this.string(o?.ProductName, [...path, "ProductName"]),
      TrustedMeasurement: this.string(o?.TrustedMeasurement, [...path, "TrustedMeasurement"]),
      GuestPolicy: this.guestPolicy(o?.GuestPolicy, [...path, "GuestPolicy"]),
    };
    // Newer releases' fields: kept only when present, so that v1.5 manifests write back unchanged.
    if (o !== undefined && Object.hasOwn(o, "PlatformInfo")) {
      const pi = this.object(o.PlatformInfo, [...path, "PlatformInfo"], PLATFORM_INFO_FIELDS);
      out.PlatformInfo = Object.fromEntries(
        PLATFORM_INFO_FIELDS.map((f) => [f, this.bool(pi?.[f], [...path, "PlatformInfo", f])]),
      ) as unknown as SnpPlatformInfo;
    }
    if (o !== undefined && Object.hasOwn(o, "MinimumMitigationVector")) {
      out.MinimumMitigationVector = this.uint(
        o.MinimumMitigationVector,
        [...path, "MinimumMitigationVector"],
        Number.MAX_SAFE_INTEGER,
        false,
      );
    }
    if (o !== undefined && Object.hasOwn(o, "AllowedChipIDs")) {
      out.AllowedChipIDs = this.stringArray(o.AllowedChipIDs, [...path, "AllowedChipIDs"]);
    }
    return out;
  }

  sim(v: JsonValue, path: JsonPath): SimReferenceValues {
    const o = this.object(v, path, SIM_FIELDS);
    return { ArkKeyDigest: this.string(o?.ArkKeyDigest, [...path, "ArkKeyDigest"]), ...this.snpFields(o, path) };
  }

  guestPolicy(v: JsonValue | undefined, path: JsonPath): SnpGuestPolicy {
    const o = this.object(v, path, GUEST_POLICY_FIELDS);
    const out = emptyGuestPolicy();
    out.ABIMinor = this.uint(o?.ABIMinor, [...path, "ABIMinor"], 255, false);
    out.ABIMajor = this.uint(o?.ABIMajor, [...path, "ABIMajor"], 255, false);
    for (const f of GUEST_POLICY_FLAGS) out[f] = this.bool(o?.[f], [...path, f]);
    if (o !== undefined && Object.hasOwn(o, "PageSwapDisable")) {
      out.PageSwapDisable = this.bool(o.PageSwapDisable, [...path, "PageSwapDisable"]);
    }
    return out;
  }

  tdx(v: JsonValue, path: JsonPath): TDXReferenceValues {
    const o = this.object(v, path, TDX_FIELDS);
    const rtrms: [string, string, string, string] = ["", "", "", ""];
    const raw = o?.Rtrms;
    if (raw !== undefined && raw !== null) {
      if (!Array.isArray(raw)) this.wrongType([...path, "Rtrms"], "an array of 4 strings", raw);
      else {
        if (raw.length !== 4) {
          // Go would zero-fill a short array and drop extra entries; both hide a mistake.
          this.report(
            "MANIFEST_ARRAY_WRONG_LENGTH",
            [...path, "Rtrms"],
            `expected exactly 4 RTMR values, got ${raw.length}`,
            "List RTMR0 to RTMR3 in order.",
          );
        }
        raw.slice(0, 4).forEach((item, i) => {
          rtrms[i] = this.string(item, [...path, "Rtrms", i]);
        });
      }
    }
    const out: TDXReferenceValues = {
      MrTd: this.string(o?.MrTd, [...path, "MrTd"]),
      Rtrms: rtrms,
      MinimumQeSvn: this.uint(o?.MinimumQeSvn, [...path, "MinimumQeSvn"], 0xffff, true),
      MinimumPceSvn: this.uint(o?.MinimumPceSvn, [...path, "MinimumPceSvn"], 0xffff, true),
      MinimumTeeTcbSvn: this.string(o?.MinimumTeeTcbSvn, [...path, "MinimumTeeTcbSvn"]),
      MrSeam: this.string(o?.MrSeam, [...path, "MrSeam"]),
      TdAttributes: this.string(o?.TdAttributes, [...path, "TdAttributes"]),
      Xfam: this.string(o?.Xfam, [...path, "Xfam"]),
    };
    // Kept absent when absent, so that v1.5 manifests are written back byte for byte.
    if (o !== undefined && Object.hasOwn(o, "MinTCBEvaluationDataNumber")) {
      // Upstream's Go int; Intel's numbers are 32-bit.
      const n = this.uint(o.MinTCBEvaluationDataNumber, [...path, "MinTCBEvaluationDataNumber"], 0xffffffff, true);
      out.MinTCBEvaluationDataNumber = n ?? 0;
    }
    if (o !== undefined && Object.hasOwn(o, "AllowedPIIDs")) {
      out.AllowedPIIDs = this.stringArray(o.AllowedPIIDs, [...path, "AllowedPIIDs"]);
    }
    return out;
  }
}
