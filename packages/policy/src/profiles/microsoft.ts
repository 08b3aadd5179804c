import type { JsonPatchOperation } from "../settings/json-patch.js";
import type { ProfileDefinition, ProfileFact } from "./types.js";

/** The fork tag whose genpolicy settings, rules and runtime the profile models. */
export const AKS_GENPOLICY_TAG = "3.2.0.azl4";

const FORK = `microsoft/kata-containers@${AKS_GENPOLICY_TAG}`;
const CONTRAST = "edgelesssys/contrast packages/by-name/microsoft/genpolicy (v1.5, package.nix at 5ccd49bcebd4)";

/**
 * The anchored regex of the directory the tardev snapshotter names as the layers' source prefix
 * on a Contrast node: each runtime version runs its own snapshotter rooted at
 * `/var/lib/containerd/io.containerd.snapshotter.v1.tardev-<runtime handler>`, and the handler is
 * `contrast-cc-<platform>-<8 hex>`. Contrast's patch 0004 accepts these platform spellings; it
 * matches without anchors, we anchor (see docs/platform-profiles.md).
 */
export const AKS_LAYER_SRC_PREFIX_REGEX =
  "^/var/lib/containerd/io\\.containerd\\.snapshotter\\.v1\\.tardev-contrast-cc-(aks|k3s|rke2)-(qemu|clh)-(snp|tdx)-[a-f0-9]{8}/layers$";

/**
 * An example runtime handler, for the honest-request builder only: the 8-hex suffix is a hash of
 * the runtime's components, different in every release (the policy accepts any).
 */
export const AKS_EXAMPLE_RUNTIME_HANDLER = "contrast-cc-aks-clh-snp-7d6e1f2a";

/** AKS-CLH-SNP's differences from stock Kata: Microsoft's genpolicy fork and Contrast's patches. */
export const AKS_FACTS: readonly ProfileFact[] = [
  {
    id: "oci-version-1-1-0-rc1",
    summary:
      "policies carry OCI Version 1.1.0-rc.1 (the fork's DEFAULT_OCI_VERSION, what AKS's containerd 1.7 writes); the fork's rules keep the equality check",
    source: `${FORK} src/tools/genpolicy/src/policy.rs, rules.rego (CreateContainerRequest)`,
  },
  {
    id: "host-pull-tardev",
    summary: "images are pulled on the host; each layer reaches the guest as a dm-verity protected tar block device",
    source: `${FORK} src/tools/genpolicy/src/policy.rs (get_image_layer_storages)`,
  },
  {
    id: "tardev-overlay-format",
    summary:
      "the root is an overlay storage of fstype fuse3.kata-overlay, source none, whose layer options are base64 of '<name>,tar,ro,...,root-hash=<hash>'",
    source: `${FORK} src/tardev-snapshotter/src/snapshotter.rs, src/runtime/virtcontainers/fs_share_linux.go`,
  },
  {
    id: "contrast-layer-src-prefix",
    summary:
      "the overlay's layer-src-prefix is the per-runtime snapshotter directory .../io.containerd.snapshotter.v1.tardev-contrast-cc-<platform>-<8 hex>/layers, matched by regex",
    source: `${CONTRAST} 0004-genpolicy-regex-check-contrast-specific-layer-src-pr.patch`,
  },
  {
    id: "root-under-shared-dir",
    summary: "container roots are $(cpath)/<bundle id>, not /run/kata-containers/<bundle id>/rootfs",
    source: `${FORK} src/tools/genpolicy/genpolicy-settings.json (pause_container.Root.Path)`,
  },
  {
    id: "cpath-without-passthrough",
    summary: "shared files live under /run/kata-containers/shared/containers only (no passthrough directory)",
    source: `${FORK} src/tools/genpolicy/genpolicy-settings.json (common.cpath)`,
  },
  {
    id: "emptydir-shared-local",
    summary:
      "an emptyDir is a 'local' storage in the sandbox's shared directory ($(cpath)/<sandbox id>/local/<name>), not an encrypted block device",
    source: `${FORK} src/tools/genpolicy/genpolicy-settings.json (volumes.emptyDir); ${CONTRAST} 0005-genpolicy-propagate-mount_options-for-empty-dirs.patch`,
  },
  {
    id: "mount-propagation",
    summary:
      "emptyDir mounts carry the pod's propagation (Bidirectional: rshared, HostToContainer: rslave) and any Linux.RootfsPropagation is allowed",
    source: `${CONTRAST} 0005-genpolicy-propagate-mount_options-for-empty-dirs.patch, 0006-genpolicy-support-HostToContainer-mount-propagation.patch, 0010-genpolicy-support-mount-propagation-and-ro-mounts.patch`,
  },
  {
    id: "no-default-sysctls",
    summary: "neither the pause container nor other containers carry sysctls; the fork's rules require none",
    source: `${FORK} src/tools/genpolicy/genpolicy-settings.json, rules.rego (allow_create_container_input)`,
  },
  {
    id: "cgroup-options-exact",
    summary:
      "the cgroup mount's options must be the policy's exactly; no kernel-added extras (nsdelegate, memory_recursiveprot) are accepted",
    source: `${FORK} src/tools/genpolicy/rules.rego (check_mount), genpolicy-settings.json (cluster_config: {})`,
  },
  {
    id: "copyfile-mode-form",
    summary:
      "the fork's agent hands CopyFileRequest to the policy as file_mode and symlink_src (no file_type, no symlink_target); the rules read that form too",
    source: `${FORK} src/agent/src/policy.rs (PolicyCopyFileRequest), rules.rego (CopyFileRequest)`,
  },
  {
    id: "read-stream-allowed",
    summary: "ReadStreamRequest is allowed (container logs), as the fork's settings say",
    source: `${FORK} src/tools/genpolicy/genpolicy-settings.json (request_defaults)`,
  },
  {
    id: "env-regex-fork",
    summary:
      "service environment variables are allowed for TCP services only, named by $(svc_name) = [A-Z0-9_.-]+; no JOB_COMPLETION_INDEX",
    source: `${FORK} src/tools/genpolicy/genpolicy-settings.json (request_defaults.CreateContainerRequest.allow_env_regex)`,
  },
  {
    id: "tarfs-long-symlinks",
    summary:
      "layer root hashes follow the fork's tarfs index, which keeps symlink targets longer than 100 bytes (appended after the directory tables), so such layers hash differently from stock Kata's (profile tarfs: microsoft)",
    source: `${FORK} src/tardev-snapshotter/tarindex/src/lib.rs (blob f4e0085a, the same from 3.2.0.azl1 to azl5)`,
  },
];

const EMPTY_DIR_PATH = "^$(cpath)/$(sandbox-id)/local/";

export const AKS_SETTINGS_PATCH: readonly JsonPatchOperation[] = [
  // oci-version-1-1-0-rc1
  { op: "replace", path: "/kata_config/oci_version", value: "1.1.0-rc.1" },
  // host-pull-tardev
  { op: "replace", path: "/cluster_config/guest_pull", value: false },
  // tardev-overlay-format, contrast-layer-src-prefix
  {
    op: "add",
    path: "/common/tardev",
    value: {
      overlay_fstype: "fuse3.kata-overlay",
      layer_option_encoding: "base64",
      layer_src_prefix: AKS_LAYER_SRC_PREFIX_REGEX,
    },
  },
  // root-under-shared-dir
  { op: "replace", path: "/common/root_path", value: "/run/kata-containers/shared/containers/$(bundle-id)" },
  // cpath-without-passthrough
  { op: "replace", path: "/common/cpath", value: "/run/kata-containers/shared/containers" },
  // emptydir-shared-local
  { op: "replace", path: "/cluster_config/emptydir_type", value: "shared-fs" },
  { op: "replace", path: "/volumes/emptyDir/mount_source", value: EMPTY_DIR_PATH },
  { op: "replace", path: "/volumes/emptyDir/mount_point", value: EMPTY_DIR_PATH },
  // mount-propagation: the switches the QEMU profiles' patches introduced for the same behaviour.
  { op: "add", path: "/cluster_config/emptydir_mount_propagation", value: true },
  { op: "add", path: "/cluster_config/check_rootfs_propagation", value: false },
  // no-default-sysctls
  { op: "remove", path: "/pause_container/Linux/Sysctl" },
  { op: "remove", path: "/other_container/Linux/Sysctl" },
  // cgroup-options-exact
  { op: "replace", path: "/cluster_config/cgroup_mount_extras_allowed", value: [] },
  // read-stream-allowed
  { op: "replace", path: "/request_defaults/ReadStreamRequest", value: true },
  // env-regex-fork
  { op: "add", path: "/common/svc_name", value: "[A-Z0-9_\\.\\-]+" },
  {
    op: "replace",
    path: "/request_defaults/CreateContainerRequest/allow_env_regex",
    value: [
      "^HOSTNAME=$(dns_label)$",
      "^$(svc_name)_PORT_$(ip_p)_TCP=tcp://$(ipv4_a):$(ip_p)$",
      "^$(svc_name)_PORT_$(ip_p)_TCP_PROTO=tcp$",
      "^$(svc_name)_PORT_$(ip_p)_TCP_PORT=$(ip_p)$",
      "^$(svc_name)_PORT_$(ip_p)_TCP_ADDR=$(ipv4_a)$",
      "^$(svc_name)_SERVICE_HOST=$(ipv4_a)$",
      "^$(svc_name)_SERVICE_PORT=$(ip_p)$",
      "^$(svc_name)_SERVICE_PORT_$(dns_label)=$(ip_p)$",
      "^$(svc_name)_PORT=tcp://$(ipv4_a):$(ip_p)$",
      "^AZURE_CLIENT_ID=[A-Fa-f0-9-]*$",
      "^AZURE_TENANT_ID=[A-Fa-f0-9-]*$",
      "^AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token$",
      "^AZURE_AUTHORITY_HOST=https://login\\.microsoftonline\\.com/$",
      "^TERM=xterm$",
    ],
  },
];

/**
 * Contrast v1.5 on AKS (Cloud Hypervisor, SEV-SNP): layers through the tardev snapshotter,
 * policies from Microsoft's genpolicy fork.
 */
export const AKS_PROFILE: ProfileDefinition = {
  id: "aks-clh-snp",
  name: "AKS-CLH-SNP",
  flavour: "microsoft",
  description:
    "Contrast v1.5 runtime on AKS (Cloud Hypervisor, SEV-SNP): Microsoft's Kata fork with Contrast's patches",
  upstream: {
    contrast: "v1.5.0/v1.5.1 (released 2025-02-13 / 2025-02-19)",
    kata: FORK,
    genpolicy: `${FORK} + Contrast patches 0001-0010`,
  },
  facts: AKS_FACTS,
  settingsPatch: AKS_SETTINGS_PATCH,
  runtime: {
    // mount-propagation: the fork's runtime passes containerd's propagation through (patches 0005, 0006, 0010).
    mountPropagation: true,
    // copyfile-mode-form: AKS's guest has no shared filesystem; the runtime copies shared files.
    sharedFileCopies: true,
    layerSrcPrefix: `/var/lib/containerd/io.containerd.snapshotter.v1.tardev-${AKS_EXAMPLE_RUNTIME_HANDLER}/layers`,
  },
  annotation: "agent-policy",
  tarfs: "microsoft",
};
