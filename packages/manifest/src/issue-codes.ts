import type { IssueSeverity } from "./issues.js";

/**
 * One kind of manifest finding (`contrast manifest validate`, `parseManifest`'s issues): not an
 * error that is thrown, but a problem reported with the others, at the severities listed.
 */
export interface IssueCodeInfo {
  readonly code: string;
  readonly severities: readonly IssueSeverity[];
  readonly meaning: string;
  readonly hint: string;
}

/**
 * Every finding code a manifest check reports. docs/errors.md lists them next to the errors
 * (tools/errors-doc); the hint here is the usual one, a finding carries a more specific one.
 */
export const MANIFEST_ISSUE_CODES = [
  {
    code: "MANIFEST_JSON_INVALID",
    severities: ["error"],
    meaning: "The file is not JSON (syntax, a duplicate key, a number out of range).",
    hint: "Fix the JSON at the line and column shown.",
  },
  {
    code: "MANIFEST_WRONG_TYPE",
    severities: ["error"],
    meaning: "A field has the wrong JSON type.",
    hint: "Compare the field with the manifest format in docs/manifest.md.",
  },
  {
    code: "MANIFEST_UNKNOWN_FIELD",
    severities: ["error"],
    meaning: "A field the manifest format does not have (names are case-sensitive).",
    hint: "Check the spelling; an unknown field would be dropped when the manifest is rewritten.",
  },
  {
    code: "MANIFEST_NUMBER_OUT_OF_RANGE",
    severities: ["error"],
    meaning: "A number is not an integer in its field's range.",
    hint: "Use an integer in the range the message names.",
  },
  {
    code: "MANIFEST_HEX_INVALID",
    severities: ["error"],
    meaning: "A value that must be hex holds other characters.",
    hint: "Use hex digits only, two per byte, without 0x.",
  },
  {
    code: "MANIFEST_HEX_WRONG_LENGTH",
    severities: ["error"],
    meaning: "A hex value has the wrong number of bytes.",
    hint: "Check that the value was copied completely.",
  },
  {
    code: "MANIFEST_HEX_NOT_LOWERCASE",
    severities: ["warning"],
    meaning: "A policy hash is in upper-case hex, which never matches a pod's lower-case HOST_DATA.",
    hint: "Write the hash in lower-case hex.",
  },
  {
    code: "MANIFEST_ARRAY_WRONG_LENGTH",
    severities: ["error"],
    meaning: "An array has the wrong number of entries (e.g. Rtrms must have 4).",
    hint: "Give exactly the number of entries the message names.",
  },
  {
    code: "MANIFEST_VALUE_REQUIRED",
    severities: ["error", "expected-missing"],
    meaning: "A required value is missing or empty.",
    hint: "Fill in the value; the message names the field.",
  },
  {
    code: "MANIFEST_VALUE_EXPECTED_MISSING",
    severities: ["expected-missing"],
    meaning: "A value the user must fill in for their own hardware is empty (bare-metal TCB, MRSEAM).",
    hint: "Fill in the value of your platform; release reference values leave it empty on bare metal.",
  },
  {
    code: "MANIFEST_ROLE_INVALID",
    severities: ["error"],
    meaning: "A policy's Role is neither empty nor coordinator.",
    hint: 'Role must be empty or "coordinator".',
  },
  {
    code: "MANIFEST_PRODUCT_NAME_UNKNOWN",
    severities: ["error"],
    meaning: "An SNP entry's ProductName is not a product the manifest format knows.",
    hint: "Use one of the product names the message lists.",
  },
  {
    code: "MANIFEST_GUEST_POLICY_INSECURE",
    severities: ["error"],
    meaning: "The SNP guest policy allows debugging or a migration agent, which void confidentiality.",
    hint: "Set Debug and MigrateMA to false.",
  },
  {
    code: "MANIFEST_GUEST_POLICY_UNUSUAL",
    severities: ["warning"],
    meaning: "A guest policy field differs from the policy Contrast launches VMs with.",
    hint: "Pods will not match unless the runtime was changed too; newer Contrast releases reject this value.",
  },
  {
    code: "MANIFEST_TD_ATTRIBUTES_INSECURE",
    severities: ["error"],
    meaning: "The TDX TD attributes allow debugging, which voids confidentiality.",
    hint: "Clear the DEBUG bit of TdAttributes.",
  },
  {
    code: "MANIFEST_TD_ATTRIBUTES_UNUSUAL",
    severities: ["warning"],
    meaning: "TdAttributes differs from the attributes Contrast launches TDs with.",
    hint: "Pods will not match unless the runtime was changed too; newer Contrast releases fix this value.",
  },
  {
    code: "MANIFEST_REFERENCE_VALUES_EMPTY",
    severities: ["error"],
    meaning: "The manifest has no reference values for any platform.",
    hint: "Fill in the reference values of your platform; `contrast --version` lists the platforms (docs/manifest.md).",
  },
  {
    code: "MANIFEST_SAN_INVALID",
    severities: ["error"],
    meaning: "A policy's subject alternative name is empty or contains whitespace.",
    hint: "SANs are DNS names, IP addresses or URIs.",
  },
  {
    code: "MANIFEST_SEEDSHARE_KEY_INVALID",
    severities: ["error"],
    meaning: "A seed share owner key is not a hex PKCS#1 RSA public key.",
    hint: "Derive it from seedshare-owner.pem: the hex of its PKCS#1 DER public key.",
  },
  {
    code: "MANIFEST_SIMULATED_TEE",
    severities: ["warning"],
    meaning: "The manifest trusts the simulated TEE, which proves nothing (development and tests only).",
    hint: "Use ReferenceValues.sim only for development, tests and demos.",
  },
  {
    code: "MANIFEST_SIMULATED_MIXED_WITH_HARDWARE",
    severities: ["error"],
    meaning:
      "The manifest trusts both the simulated TEE and hardware, so simulated evidence could pass for a hardware deployment.",
    hint: "Keep simulated and hardware reference values in separate manifests.",
  },
] as const satisfies readonly IssueCodeInfo[];

export type ManifestIssueCode = (typeof MANIFEST_ISSUE_CODES)[number]["code"];
