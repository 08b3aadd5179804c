import { createPublicKey } from "node:crypto";
import { formatJsonPath, isHex, type JsonPath } from "@contrast/core";
import type { IssueSeverity, ManifestIssue, ManifestIssueCode } from "./issues.js";
import type { Manifest, SNPReferenceValues, TDXReferenceValues } from "./types.js";

export const PRODUCT_NAMES = ["Milan", "Genoa"] as const;
export const POLICY_ROLES = ["", "coordinator"] as const;

const SNP_MEASUREMENT_BYTES = 48;
const SNP_CHIP_ID_BYTES = 64;
const TDX_MEASUREMENT_BYTES = 48;
const TDX_PIID_BYTES = 16;
/** What Kata/QEMU launch Contrast's TDs with: SEPT_VE_DISABLE (bit 28) alone, little-endian hex. */
const CONTRAST_TD_ATTRIBUTES = "0000001000000000";

/**
 * Checks the manifest's meaning: hashes, lengths, roles, product names, keys. Returns every
 * finding; `decodeManifest` has already reported type problems.
 */
export function validateManifest(m: Manifest): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const add = (
    code: ManifestIssueCode,
    path: JsonPath,
    message: string,
    hint: string,
    severity: IssueSeverity = "error",
  ) => {
    issues.push({ code, severity, path: formatJsonPath(path), message, hint });
  };

  const hex = (value: string, bytes: number, path: JsonPath, what: string, severity: IssueSeverity = "error") => {
    if (severity === "expected-missing" && value === "") {
      add(
        "MANIFEST_VALUE_EXPECTED_MISSING",
        path,
        "field cannot be empty",
        `Fill in the ${what} of your platform; release reference values leave it empty on bare metal.`,
        "expected-missing",
      );
      return;
    }
    if (value === "") {
      add(
        "MANIFEST_VALUE_REQUIRED",
        path,
        `${what} is empty; expected ${bytes} bytes (${bytes * 2} hex characters)`,
        "Take the value from the release's reference values or from your platform's attestation report.",
      );
    } else if (!isHex(value)) {
      add("MANIFEST_HEX_INVALID", path, `${what} is not valid hex`, "Use hex digits only, two per byte, without 0x.");
    } else if (value.length !== bytes * 2) {
      add(
        "MANIFEST_HEX_WRONG_LENGTH",
        path,
        `${what} must be ${bytes} bytes (${bytes * 2} hex characters), got ${value.length / 2} bytes`,
        "Check that the value was copied completely.",
      );
    }
  };

  // Policies
  for (const [hash, entry] of m.Policies ?? []) {
    const p: JsonPath = ["Policies", hash];
    if (!isHex(hash, 32)) {
      add(
        "MANIFEST_HEX_INVALID",
        p,
        "policy hash must be 64 hex characters (SHA-256)",
        "Use the hash `contrast policy generate` prints for the workload (SHA-256 of its policy); copy it rather than typing it.",
      );
    } else if (hash !== hash.toLowerCase()) {
      add(
        "MANIFEST_HEX_NOT_LOWERCASE",
        p,
        "policy hash is not lower case and will never match a pod's HOST_DATA",
        "Write policy hashes in lower case.",
        "warning",
      );
    }
    if (!(POLICY_ROLES as readonly string[]).includes(entry.Role)) {
      add(
        "MANIFEST_ROLE_INVALID",
        [...p, "Role"],
        `invalid role ${JSON.stringify(entry.Role)}`,
        'Role must be empty or "coordinator".',
      );
    }
    for (const [i, san] of (entry.SANs ?? []).entries()) {
      if (san === "" || /\s/.test(san)) {
        add(
          "MANIFEST_SAN_INVALID",
          [...p, "SANs", i],
          `SAN ${JSON.stringify(san)} is empty or contains whitespace`,
          "SANs are DNS names, IP addresses or URIs.",
        );
      }
    }
  }

  // Reference values
  const rv = m.ReferenceValues;
  for (const [i, snp] of rv.snp.entries()) validateSnp(snp, ["ReferenceValues", "snp", i], add, hex);
  for (const [i, sim] of rv.sim.entries()) {
    const p: JsonPath = ["ReferenceValues", "sim", i];
    validateSnp(sim, p, add, hex);
    hex(sim.ArkKeyDigest, 32, [...p, "ArkKeyDigest"], "simulated ARK key digest");
  }
  for (const [i, tdx] of rv.tdx.entries()) validateTdx(tdx, ["ReferenceValues", "tdx", i], add, hex);
  if (rv.snp.length + rv.tdx.length + rv.sim.length === 0) {
    add(
      "MANIFEST_REFERENCE_VALUES_EMPTY",
      ["ReferenceValues"],
      "reference values in manifest cannot be empty. Is the chosen platform supported?",
      "Fill in the reference values of your platform; `contrast --version` lists the platforms (docs/manifest.md).",
    );
  }
  if (rv.sim.length > 0) {
    if (rv.snp.length + rv.tdx.length > 0) {
      add(
        "MANIFEST_SIMULATED_MIXED_WITH_HARDWARE",
        ["ReferenceValues", "sim"],
        "simulated TEE reference values are mixed with hardware reference values",
        "A simulated pod would be accepted as if it ran on hardware. Use a separate manifest for the simulated TEE.",
      );
    }
    add(
      "MANIFEST_SIMULATED_TEE",
      ["ReferenceValues", "sim"],
      "this manifest trusts the simulated TEE, which offers no confidentiality or integrity",
      "Use it only for development, tests and demos. Production manifests name snp or tdx reference values.",
      "warning",
    );
  }

  // Owner keys
  for (const [i, digest] of (m.WorkloadOwnerKeyDigests ?? []).entries()) {
    hex(digest, 32, ["WorkloadOwnerKeyDigests", i], "workload owner key digest");
  }
  (m.SeedshareOwnerPubKeys ?? []).forEach((key, i) => {
    const p: JsonPath = ["SeedshareOwnerPubKeys", i];
    if (!isHex(key) || key.length === 0) {
      add("MANIFEST_HEX_INVALID", p, "seed share owner key is not valid hex", "Use the hex PKCS#1 DER public key.");
      return;
    }
    try {
      const pub = createPublicKey({ key: Buffer.from(key, "hex"), format: "der", type: "pkcs1" });
      if (pub.asymmetricKeyType !== "rsa") throw new Error("not an RSA key");
    } catch {
      add(
        "MANIFEST_SEEDSHARE_KEY_INVALID",
        p,
        "seed share owner key is not a PKCS#1 RSA public key",
        "Derive it from seedshare-owner.pem: the hex of its PKCS#1 DER public key (`openssl rsa -in seedshare-owner.pem -RSAPublicKey_out -outform DER | xxd -p | tr -d '\\n'`).",
      );
    }
  });

  return issues;
}

type Add = (code: ManifestIssueCode, path: JsonPath, message: string, hint: string, severity?: IssueSeverity) => void;
type Hex = (value: string, bytes: number, path: JsonPath, what: string, severity?: IssueSeverity) => void;

function validateSnp(r: SNPReferenceValues, path: JsonPath, add: Add, hex: Hex): void {
  for (const [field, value] of Object.entries(r.MinimumTCB)) {
    if (value === null) {
      add(
        "MANIFEST_VALUE_EXPECTED_MISSING",
        [...path, "MinimumTCB", field],
        "field cannot be empty",
        "Fill in the minimum TCB of your hardware. Setting 255 makes verification fail with the actual value in the message.",
        "expected-missing",
      );
    }
  }
  if (!(PRODUCT_NAMES as readonly string[]).includes(r.ProductName)) {
    add(
      "MANIFEST_PRODUCT_NAME_UNKNOWN",
      [...path, "ProductName"],
      `unknown product name: ${r.ProductName === "" ? '""' : r.ProductName}`,
      `Use one of ${PRODUCT_NAMES.join(", ")}.`,
    );
  }
  hex(r.TrustedMeasurement, SNP_MEASUREMENT_BYTES, [...path, "TrustedMeasurement"], "launch measurement");
  for (const [i, id] of (r.AllowedChipIDs ?? []).entries()) {
    hex(id, SNP_CHIP_ID_BYTES, [...path, "AllowedChipIDs", i], "chip ID");
  }

  const gp = r.GuestPolicy;
  const gpPath = [...path, "GuestPolicy"];
  // Debug lets the host read guest memory and a migration agent can move it elsewhere: either one
  // voids the confidentiality that attestation is meant to prove.
  for (const f of ["Debug", "MigrateMA"] as const) {
    if (gp[f]) {
      add(
        "MANIFEST_GUEST_POLICY_INSECURE",
        [...gpPath, f],
        `${f} must be false: it lets the host read or move guest memory`,
        "Remove the field or set it to false.",
      );
    }
  }
  const unusual: [string, boolean][] = [
    ["ABIMajor", gp.ABIMajor !== 0],
    ["ABIMinor", gp.ABIMinor !== 0 && gp.ABIMinor !== 31],
    ["SMT", !gp.SMT],
    ["SingleSocket", gp.SingleSocket],
    ["CXLAllowed", gp.CXLAllowed],
    ["MemAES256XTS", gp.MemAES256XTS],
    ["RAPLDis", gp.RAPLDis],
    ["CipherTextHidingDRAM", gp.CipherTextHidingDRAM],
  ];
  for (const [f, bad] of unusual) {
    if (bad) {
      add(
        "MANIFEST_GUEST_POLICY_UNUSUAL",
        [...gpPath, f],
        `${f} differs from the guest policy Contrast launches VMs with`,
        "Pods will not match unless the runtime was changed too; newer Contrast releases reject this value.",
        "warning",
      );
    }
  }
}

function validateTdx(r: TDXReferenceValues, path: JsonPath, add: Add, hex: Hex): void {
  hex(r.MrTd, TDX_MEASUREMENT_BYTES, [...path, "MrTd"], "MRTD");
  for (const [i, rtmr] of r.Rtrms.entries()) hex(rtmr, TDX_MEASUREMENT_BYTES, [...path, "Rtrms", i], `RTMR${i}`);
  for (const f of ["MinimumQeSvn", "MinimumPceSvn"] as const) {
    if (r[f] === null) {
      add(
        "MANIFEST_VALUE_REQUIRED",
        [...path, f],
        "field cannot be empty",
        "Set the minimum SVN; the release's reference values carry a default.",
      );
    }
  }
  hex(r.MinimumTeeTcbSvn, 16, [...path, "MinimumTeeTcbSvn"], "minimum TEE TCB SVN");
  hex(r.MrSeam, TDX_MEASUREMENT_BYTES, [...path, "MrSeam"], "MRSEAM (TDX module measurement)", "expected-missing");
  hex(r.TdAttributes, 8, [...path, "TdAttributes"], "TD attributes");
  hex(r.Xfam, 8, [...path, "Xfam"], "XFAM");
  for (const [i, piid] of (r.AllowedPIIDs ?? []).entries()) {
    hex(piid, TDX_PIID_BYTES, [...path, "AllowedPIIDs", i], "platform instance ID (PIID)");
  }
  if (isHex(r.TdAttributes) && r.TdAttributes.length === 16) {
    // TDATTRIBUTES is a little-endian 64-bit value: bit 0 (DEBUG) is the low bit of the first byte.
    if ((Number.parseInt(r.TdAttributes.slice(0, 2), 16) & 0x01) !== 0) {
      add(
        "MANIFEST_TD_ATTRIBUTES_INSECURE",
        [...path, "TdAttributes"],
        "TdAttributes sets DEBUG (bit 0): the host could read and change the TD's memory",
        `Clear bit 0; Contrast's TDs use ${CONTRAST_TD_ATTRIBUTES} (SEPT_VE_DISABLE only).`,
      );
    } else if (r.TdAttributes.toLowerCase() !== CONTRAST_TD_ATTRIBUTES) {
      add(
        "MANIFEST_TD_ATTRIBUTES_UNUSUAL",
        [...path, "TdAttributes"],
        `TdAttributes differs from the ${CONTRAST_TD_ATTRIBUTES} (SEPT_VE_DISABLE only) Contrast launches TDs with`,
        "Pods will not match unless the runtime was changed too; newer Contrast releases fix this value.",
        "warning",
      );
    }
  }
}
