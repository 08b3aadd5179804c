import { readFileSync } from "node:fs";
import { API_ERROR_CODES } from "@contrast/api";
import { ATLS_ERROR_CODES } from "@contrast/atls";
import { ATTESTATION_ERROR_CODES } from "@contrast/attestation";
import { COORDINATOR_ERROR_CODES } from "@contrast/coordinator";
import { CORE_ERROR_CODES } from "@contrast/core";
import { KUBE_ERROR_CODES, KUBE_FINDING_CODES } from "@contrast/kube";
import { ADMISSION_ERROR_CODES, LOCALRUN_ERROR_CODES } from "@contrast/localrun";
import { MANIFEST_ERROR_CODES, MANIFEST_ISSUE_CODES } from "@contrast/manifest";
import { MESH_PKI_ERROR_CODES } from "@contrast/mesh-pki";
import { MESH_PROXY_ERROR_CODES } from "@contrast/mesh-proxy";
import { NETFILTER_ERROR_CODES } from "@contrast/netfilter";
import { NODE_INSTALL_ERROR_CODES } from "@contrast/node-installer";
import { IMAGE_ERROR_CODES } from "@contrast/oci";
import { POLICY_ERROR_CODES, POLICY_WARNING_CODES } from "@contrast/policy";
import { REGO_ERROR_CODES, REGO_FINDING_CODES } from "@contrast/rego";
import { WORKLOAD_ERROR_CODES } from "@contrast/workload";
import { X509_ERROR_CODES } from "@contrast/x509";
import { transformSync } from "esbuild";

/**
 * The CLI is an app: it has no library build to import from, so its registry is read from its
 * source (a plain `as const` array whose only import is a type, erased by the transform).
 */
async function cliRegistry(app = "cli") {
  const source = readFileSync(new URL(`../../../apps/${app}/src/error-codes.ts`, import.meta.url), "utf8");
  const { code } = transformSync(source, { loader: "ts", format: "esm" });
  return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}
const CLI = await cliRegistry();
const COORDINATOR_APP = await cliRegistry("coordinator");
// The release tool is repository tooling in plain JavaScript: its registry is imported from source.
const RELEASE = await import(new URL("../../release/src/errors.mjs", import.meta.url).href);

/**
 * Every package's error registry with the code prefixes the package owns. A prefix ends in "_"
 * (a word prefix) or is a whole code (an exception kept for compatibility). No code may match the
 * prefixes of two packages, so a code names its package. Packages are listed bottom-up.
 * `findings` are the codes a package reports without throwing: manifest issues, warnings and
 * dialect findings, at the severities listed (`warning` when none are).
 */
export const REGISTRIES = [
  {
    package: "@contrast/core",
    prefixes: [
      "ABORTED",
      "INTERNAL",
      "IO_ERROR",
      "DISK_",
      "DER_",
      "ENCODING_",
      "FILE_",
      "JSON_",
      "LOG_LEVEL_",
      "NETWORK_",
      "PEM_",
    ],
    codes: CORE_ERROR_CODES,
  },
  { package: "@contrast/x509", prefixes: ["X509_"], codes: X509_ERROR_CODES },
  {
    package: "@contrast/manifest",
    prefixes: ["MANIFEST_", "PLATFORM_", "RUNTIME_HANDLER_", "SEED_SHARES_"],
    codes: MANIFEST_ERROR_CODES,
    findings: MANIFEST_ISSUE_CODES,
  },
  {
    package: "@contrast/attestation",
    prefixes: ["ATTESTATION_", "COLLATERAL_", "CRL_", "EVIDENCE_", "SIM_", "SNP_", "TDX_", "TSM_"],
    codes: ATTESTATION_ERROR_CODES,
  },
  { package: "@contrast/rego", prefixes: ["REGO_"], codes: REGO_ERROR_CODES, findings: REGO_FINDING_CODES },
  { package: "@contrast/kube", prefixes: ["KUBE_"], codes: KUBE_ERROR_CODES, findings: KUBE_FINDING_CODES },
  {
    package: "@contrast/oci",
    prefixes: [
      "IMAGE_",
      "REGISTRY_",
      "DIGEST_",
      "LAYER_",
      "LAYERS_CACHE_",
      "OCI_LAYOUT_",
      "GZIP_",
      "DOCKER_CONFIG_",
      "DOCKER_CREDENTIAL_",
    ],
    codes: IMAGE_ERROR_CODES,
  },
  {
    package: "@contrast/policy",
    prefixes: ["POLICY_"],
    codes: POLICY_ERROR_CODES,
    findings: POLICY_WARNING_CODES,
  },
  {
    package: "@contrast/mesh-pki",
    prefixes: [
      "CERT_",
      "DET_KEYGEN_",
      "KEY_",
      "RANDOM_SOURCE_",
      "SALT_",
      "SEED_INVALID_",
      "SEED_SHARE_",
      "TRANSITION_",
      "WORKLOAD_SECRET_",
    ],
    codes: MESH_PKI_ERROR_CODES,
  },
  { package: "@contrast/api", prefixes: ["API_"], codes: API_ERROR_CODES },
  { package: "@contrast/atls", prefixes: ["ATLS_"], codes: ATLS_ERROR_CODES },
  {
    package: "@contrast/coordinator",
    prefixes: ["HISTORY_", "COORDINATOR_"],
    codes: COORDINATOR_ERROR_CODES,
  },
  { package: "@contrast/workload", prefixes: ["INITIALIZER_"], codes: WORKLOAD_ERROR_CODES },
  { package: "@contrast/mesh-proxy", prefixes: ["PROXY_"], codes: MESH_PROXY_ERROR_CODES },
  { package: "@contrast/netfilter", prefixes: ["NETFILTER_"], codes: NETFILTER_ERROR_CODES },
  { package: "@contrast/node-installer", prefixes: ["NODE_INSTALL_"], codes: NODE_INSTALL_ERROR_CODES },
  {
    package: "@contrast/localrun",
    prefixes: ["LOCALRUN_"],
    codes: [...LOCALRUN_ERROR_CODES, ...ADMISSION_ERROR_CODES],
  },
  {
    package: "@contrast/cli",
    // Whole codes: the CLI's codes from before the prefix rule, under other packages' word prefixes.
    prefixes: [
      "CLI_",
      "REFERENCE_VALUES_",
      "CERT_CHAIN_INVALID",
      "FILE_TOO_LARGE",
      "POLICY_NO_INPUT",
      "POLICY_UNRECOGNISED",
    ],
    codes: CLI.CLI_ERROR_CODES,
    findings: CLI.CLI_WARNING_CODES,
  },
  { package: "@contrast/coordinator-app", prefixes: ["SERVER_"], codes: COORDINATOR_APP.SERVER_ERROR_CODES },
  { package: "@contrast/release", prefixes: ["RELEASE_"], codes: RELEASE.RELEASE_ERROR_CODES },
];
