import type { ErrorCodeInfo } from "@contrast/core";

/** Every code the node installer reports. docs/errors.md is generated from this list. */
export const NODE_INSTALL_ERROR_CODES = [
  {
    code: "NODE_INSTALL_USAGE",
    kind: "input",
    meaning: "The node installer's command line is wrong: no platform, an unknown flag, or a flag without its value.",
    hint: "Run node-installer <platform> [--runtime-handler <name>] [--restart=false]; see docs/node-installer.md.",
  },
  {
    code: "NODE_INSTALL_CONFIG_INVALID",
    kind: "input",
    meaning:
      "contrast-node-install.json is not valid: not JSON, a missing or mistyped field, or an unsafe target path.",
    hint: "Use the ConfigMap from the release's runtime-<platform>.yml; every file needs url and an absolute path under /opt/edgeless.",
  },
  {
    code: "NODE_INSTALL_INTEGRITY_INVALID",
    kind: "input",
    meaning: "An integrity value is not a Subresource Integrity string with a sha256, sha384 or sha512 digest.",
    hint: 'Write integrity as "sha256-<base64 of the digest>" (SRI); several space-separated values are allowed.',
  },
  {
    code: "NODE_INSTALL_INTEGRITY_REQUIRED",
    kind: "input",
    meaning: "A file fetched over http(s) has no integrity value, so what arrives could not be verified.",
    hint: 'Add "integrity": "sha256-..." (SRI) for every http:// or https:// file in contrast-node-install.json.',
  },
  {
    code: "NODE_INSTALL_INTEGRITY_MISMATCH",
    kind: "crypto",
    meaning: "A downloaded runtime file's digest does not match its integrity value; nothing was installed for it.",
    hint: "The file at the URL changed or was tampered with; check the URL and the release's integrity values.",
  },
  {
    code: "NODE_INSTALL_FETCH_FAILED",
    kind: "io",
    meaning:
      "A runtime file could not be read from its URL (network error, HTTP status other than 200, or a missing file:// source).",
    hint: "Check that the node can reach the URL (or that the file:// path exists in the installer's container).",
  },
  {
    code: "NODE_INSTALL_PLATFORM_MISMATCH",
    kind: "input",
    meaning: "The runtime handler does not belong to the platform given on the command line, or none was given.",
    hint: "Give the platform of the release's runtime-<platform>.yml and its handler (runtimeHandler in the config, or --runtime-handler).",
  },
  {
    code: "NODE_INSTALL_PLATFORM_UNSUPPORTED",
    kind: "input",
    meaning: "The platform has no runtime to install on a node (the simulated TEE runs no pod VMs).",
    hint: "Pick one of the hardware platforms: aks-clh-snp, k3s-qemu-tdx, k3s-qemu-snp, ..., metal-qemu-snp-gpu.",
  },
  {
    code: "NODE_INSTALL_CONTAINERD_CONFIG_INVALID",
    kind: "input",
    meaning:
      "The node's containerd configuration is not valid TOML or has a shape the installer cannot extend; it was left untouched.",
    hint: "Repair the file (containerd config default > /etc/containerd/config.toml gives a valid start) and run the installer again.",
  },
  {
    code: "NODE_INSTALL_CONTAINERD_CONFIG_VERSION",
    kind: "input",
    meaning:
      "The containerd configuration has a version the installer does not patch (only version 2 and 3 are supported).",
    hint: "Migrate the file to version 2 or 3 (containerd config migrate), then run the installer again.",
  },
  {
    code: "NODE_INSTALL_RUNTIME_NOT_REGISTERED",
    kind: "internal",
    meaning:
      "After writing, the containerd configuration does not register the runtime handler with the expected runtime type and shim path.",
    hint: 'Pods would fail with "no runtime for <handler> is configured"; inspect the containerd config and the installer\'s log.',
  },
  {
    code: "NODE_INSTALL_RESTART_FAILED",
    kind: "io",
    meaning: "The command that restarts containerd (or k3s/rke2) after the configuration changed failed.",
    hint: "Restart the service by hand (systemctl restart containerd, k3s or rke2-server) and check its journal; the config is already written.",
  },
  {
    code: "NODE_INSTALL_WRITE_FAILED",
    kind: "io",
    meaning: "A file on the host could not be written (permissions, a full disk, or a read-only host mount).",
    hint: "Run the installer privileged with the host's / mounted read-write at HOST_MOUNT (default /host).",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type NodeInstallErrorCode = (typeof NODE_INSTALL_ERROR_CODES)[number]["code"];
