import type { JsonPatchOperation } from "../settings/json-patch.js";
import { GUEST_PULL_FACTS, GUEST_PULL_SETTINGS_PATCH } from "./guest-pull.js";
import type { ProfileDefinition, ProfileFact, RuntimeFacts } from "./types.js";

/**
 * Stock Kata Containers as its genpolicy ships: the base every other profile patches. Kept as a
 * profile of its own so that Kata's conformance tables and Kata's own rules.rego keep working
 * with our policy data.
 */
export const KATA_PROFILE: ProfileDefinition = {
  id: "kata",
  name: "Kata",
  flavour: "kata",
  description: "stock Kata Containers (genpolicy-settings.json of Kata main, 2026), no Contrast patches",
  upstream: { contrast: "none", kata: "main (2026)", genpolicy: "kata-containers/kata-containers main (2026)" },
  facts: [],
  settingsPatch: [],
  annotation: "agent-policy",
  tarfs: "kata",
};

const C = "edgelesssys/contrast";
const C_313 = `${C} packages/by-name/kata/kata-runtime (Kata 3.13.0 patch set of Contrast v1.5)`;

/**
 * Contrast v1.5's runtime on the QEMU platforms (bare metal, K3s, RKE2): Kata 3.13.0 with
 * Contrast's patches and production settings. `cli/genpolicy/config.go` gives all seven platforms
 * the same settings and rules, so these facts hold for each; docs/platform-profiles.md has the
 * long form with the evidence.
 */
export const CONTRAST_KATA_FACTS: readonly ProfileFact[] = [
  {
    id: "emptydir-shared-fs",
    summary:
      "emptyDirs are a plain local directory in the sandbox (storage driver local, mode=0777, …/<sandbox-id>/rootfs/local/<name>), not an encrypted block device",
    source: `kata-containers/kata-containers src/runtime/virtcontainers/kata_agent.go@3.13.0 (handleLocalStorage); ${C_313}/0009-genpolicy-allow-image_guest_pull.patch`,
  },
  {
    id: "oci-version-unchecked",
    summary: "the rules do not compare the OCI Version of CreateContainerRequest (containerd 2.x sends 1.2.x)",
    source: `${C_313}/0007-genpolicy-rules-remove-check-for-OCI-version.patch`,
  },
  {
    id: "guest-hooks",
    summary: "CreateSandboxRequest.guest_hook_path may be empty or /usr/share/oci/hooks (sandbox.allowed_guest_hooks)",
    source: `${C_313}/0017-genpolicy-support-guest-hooks.patch`,
  },
  {
    id: "gpu-resource-names",
    summary:
      "GPUs are requested by nvidia.com/GH100_H100_PCIE, nvidia.com/GB100_B200 and nvidia.com/GB110_B300_SXM6_AC as well as nvidia.com/pgpu",
    source: `${C} packages/by-name/kata/genpolicy/genpolicy_settings_prod.patch@2219980f`,
  },
  {
    id: "readstream-allowed",
    summary: "ReadStreamRequest is allowed by default (kubectl logs works)",
    source: `${C} packages/by-name/kata/genpolicy/genpolicy_settings_prod.patch@2219980f; docs (Logs: settings.json ReadStreamRequest true)`,
  },
  {
    id: "emptydir-mount-propagation",
    summary:
      "an emptyDir mount carries the pod's mountPropagation (Bidirectional: rshared, HostToContainer: rslave) and readOnly (ro)",
    source: `${C_313}/0012-genpolicy-support-mount-propagation-and-ro-mounts.patch (mount_and_storage.rs)`,
  },
  {
    id: "rootfs-propagation-unchecked",
    summary: "Linux.RootfsPropagation of CreateContainerRequest is not checked",
    source: `${C_313}/0012-genpolicy-support-mount-propagation-and-ro-mounts.patch (rules.rego)`,
  },
  {
    id: "privileged-sysfs-ro-or-rw",
    summary:
      "with a privileged container in the pod, the pause container's /sys is expected RW, and a /sys expected RW may be RO (containerd before and since 2.0.4); from a later Contrast patch",
    source: `${C} packages/by-name/kata/kata-runtime/0017-genpolicy-allow-RO-and-RW-for-sysfs-with-privileged-.patch@ffe599a8`,
  },
  {
    id: "arp-neighbors-denied",
    summary: "AddARPNeighborsRequest is denied (Kata 3.13 has no rule for it; Contrast added one only later)",
    source: "kata-containers/kata-containers src/tools/genpolicy/rules.rego@3.13.0",
  },
  ...GUEST_PULL_FACTS,
];

/** The GPU resource names of Contrast's production settings, in its order. */
export const CONTRAST_GPU_RESOURCE_KEYS = [
  "nvidia.com/pgpu",
  "nvidia.com/GB100_B200",
  "nvidia.com/GB110_B300_SXM6_AC",
  "nvidia.com/GH100_H100_PCIE",
] as const;

/** The settings differences of CONTRAST_KATA_FACTS, as JSON-Patch operations (our own data). */
export const CONTRAST_KATA_SETTINGS_PATCH: readonly JsonPatchOperation[] = [
  { op: "replace", path: "/cluster_config/emptydir_type", value: "shared-fs" },
  { op: "add", path: "/cluster_config/check_oci_version", value: false },
  { op: "add", path: "/sandbox/allowed_guest_hooks", value: ["/usr/share/oci/hooks"] },
  { op: "replace", path: "/devices/vfio/nvidia/pgpu_resource_keys", value: [...CONTRAST_GPU_RESOURCE_KEYS] },
  { op: "replace", path: "/request_defaults/ReadStreamRequest", value: true },
  { op: "add", path: "/cluster_config/emptydir_mount_propagation", value: true },
  { op: "add", path: "/cluster_config/check_rootfs_propagation", value: false },
  { op: "add", path: "/cluster_config/privileged_sysfs_ro_or_rw", value: true },
  { op: "remove", path: "/request_defaults/AddARPNeighborsRequest" },
  ...GUEST_PULL_SETTINGS_PATCH,
];

/**
 * What the QEMU platforms' runtime sends beyond the settings: containerd 2.x's OCI version (the
 * rules accept any), mount propagation reaching the agent, and the pause container's /sys as
 * containerd before 2.0.4 mounts it (the rules accept either).
 */
export const CONTRAST_KATA_RUNTIME: Partial<RuntimeFacts> = {
  ociVersion: "1.2.0",
  mountPropagation: true,
  pauseSysfsRwWithPrivileged: false,
};

/**
 * The GPU variants share the settings; their node's Kata configuration sets a guest hook path and
 * cold-plugs the GPUs (Contrast's node installer, kataconfig/config.go, for the SNP-GPU platforms).
 */
export const CONTRAST_KATA_GPU_FACTS: readonly ProfileFact[] = [
  {
    id: "gpu-guest-hook-path",
    summary: "the runtime sends guest_hook_path /usr/share/oci/hooks in CreateSandboxRequest",
    source: `${C} nodeinstaller/internal/kataconfig/config.go (GPU platforms: guest_hook_path)`,
  },
  {
    id: "gpu-cold-plug",
    summary: "GPUs are cold-plugged (cold_plug_vfio = root-port): requests carry CDI annotations, no VFIO devices",
    source: `${C} nodeinstaller/internal/kataconfig/config.go (GPU platforms: cold_plug_vfio)`,
  },
];
export const CONTRAST_KATA_GPU_SETTINGS_PATCH: readonly JsonPatchOperation[] = [];
export const CONTRAST_KATA_GPU_RUNTIME: Partial<RuntimeFacts> = {
  ...CONTRAST_KATA_RUNTIME,
  guestHookPath: "/usr/share/oci/hooks",
  vfioColdPlug: true,
};

/** The Contrast release and Kata tag the QEMU profiles model (docs/platform-profiles.md says how). */
export const CONTRAST_KATA_UPSTREAM = {
  contrast: "v1.5.0/v1.5.1 (2025-02-13, 2025-02-19)",
  kata: "3.13.0",
  genpolicy: "Kata 3.13.0 genpolicy with Contrast v1.5's 20 patches and genpolicy_settings_prod.patch",
} as const;

const qemu = (id: string, name: string, tee: "SEV-SNP" | "TDX", gpu: boolean): ProfileDefinition => ({
  id,
  name,
  flavour: "contrast-kata",
  description: `Contrast v1.5 runtime on ${name} (QEMU, ${tee}${gpu ? ", GPU" : ""}): Kata with Contrast's patches`,
  upstream: CONTRAST_KATA_UPSTREAM,
  facts: gpu ? [...CONTRAST_KATA_FACTS, ...CONTRAST_KATA_GPU_FACTS] : CONTRAST_KATA_FACTS,
  settingsPatch: gpu
    ? [...CONTRAST_KATA_SETTINGS_PATCH, ...CONTRAST_KATA_GPU_SETTINGS_PATCH]
    : CONTRAST_KATA_SETTINGS_PATCH,
  runtime: gpu ? CONTRAST_KATA_GPU_RUNTIME : CONTRAST_KATA_RUNTIME,
  annotation: "agent-policy",
  tarfs: "kata",
});

/** The QEMU platforms of Contrast v1.5, in the order of @contrast/manifest's platform list. */
export const CONTRAST_KATA_PROFILES: readonly ProfileDefinition[] = [
  qemu("k3s-qemu-tdx", "K3s-QEMU-TDX", "TDX", false),
  qemu("k3s-qemu-snp", "K3s-QEMU-SNP", "SEV-SNP", false),
  qemu("k3s-qemu-snp-gpu", "K3s-QEMU-SNP-GPU", "SEV-SNP", true),
  qemu("rke2-qemu-tdx", "RKE2-QEMU-TDX", "TDX", false),
  qemu("metal-qemu-snp", "Metal-QEMU-SNP", "SEV-SNP", false),
  qemu("metal-qemu-tdx", "Metal-QEMU-TDX", "TDX", false),
  qemu("metal-qemu-snp-gpu", "Metal-QEMU-SNP-GPU", "SEV-SNP", true),
];
