import type { TarfsFlavour } from "@contrast/oci";
import type { JsonPatchOperation } from "../settings/json-patch.js";
import type { Settings } from "../settings/types.js";

/**
 * Which genpolicy lineage a platform's runtime follows: stock Kata (`kata`, used for parity with
 * Kata's own genpolicy and its conformance tables), Kata with Contrast's patches for the QEMU
 * platforms (`contrast-kata`), Microsoft's fork for AKS (`microsoft`), or our simulated TEE's
 * local runtime (`sim`).
 */
export type ProfileFlavour = "kata" | "contrast-kata" | "microsoft" | "sim";

/** Where the policy travels: the agent-policy annotation (Contrast v1.5) or initdata (newer). */
export type AnnotationFormat = "agent-policy" | "initdata";

/** The upstream versions a profile models; each value names a release, tag or commit. */
export interface UpstreamVersions {
  readonly contrast: string;
  readonly kata: string;
  readonly genpolicy: string;
}

/**
 * One fact of a profile: a difference from the base (stock Kata) that changes what the runtime
 * sends or what the policy allows, with where it was read. The version-pinning tests list these,
 * so changing one is a visible, reviewed change.
 */
export interface ProfileFact {
  /** Short stable id, e.g. "emptydir-shared-fs". */
  readonly id: string;
  readonly summary: string;
  /** Primary source: repository, path and commit or tag. */
  readonly source: string;
}

/**
 * What the platform's runtime (containerd, the Kata shim) puts into requests beyond what the
 * settings describe; the honest-request builder reads these, the generator does not.
 */
export interface RuntimeFacts {
  /** The OCI runtime-spec `Version` the node's containerd writes into each container's spec. */
  readonly ociVersion: string;
  /**
   * The directory the tardev snapshotter names in the `layer-src-prefix` option of host-pulled
   * images' overlay storage; default: stock Kata's `/var/lib/containerd/io.containerd.snapshotter.v1.tardev/layers`.
   */
  readonly layerSrcPrefix?: string;
  /**
   * The guest has no shared filesystem: the runtime copies each shared file and directory a
   * container mounts (`CopyFileRequest`, in the form Microsoft's fork hands the policy).
   */
  readonly sharedFileCopies?: boolean;
  /** `CreateSandboxRequest.guest_hook_path`: the Kata configuration's `guest_hook_path` (GPU nodes). */
  readonly guestHookPath?: string;
  /**
   * VFIO devices are cold-plugged (`cold_plug_vfio = "root-port"`): the VM boots with the GPUs,
   * and a container's request carries only the CDI annotations, no devices.
   */
  readonly vfioColdPlug?: boolean;
  /**
   * containerd's mount propagation reaches the agent: an emptyDir mount carries the pod's
   * `mountPropagation` (`rshared`, `rslave`) and the spec's `Linux.RootfsPropagation` is set.
   */
  readonly mountPropagation?: boolean;
  /**
   * containerd ≥ 2.0.4 mounts the pause container's `/sys` read-write when any container of the
   * pod is privileged; older releases mount it read-only.
   */
  readonly pauseSysfsRwWithPrivileged?: boolean;
}

/** The input a profile is built from: the base settings plus its own differences. */
export interface ProfileDefinition {
  readonly id: string;
  /** Canonical spelling, as `--reference-values` and the platform annotation write it. */
  readonly name: string;
  readonly flavour: ProfileFlavour;
  readonly description: string;
  readonly upstream: UpstreamVersions;
  readonly facts: readonly ProfileFact[];
  /** RFC 6902 operations applied to the base settings (stock Kata's genpolicy-settings.json). */
  readonly settingsPatch: readonly JsonPatchOperation[];
  /** Overrides of the runtime facts; by default they follow the settings. */
  readonly runtime?: Partial<RuntimeFacts>;
  readonly annotation: AnnotationFormat;
  readonly tarfs: TarfsFlavour;
}

/** A platform's policy profile, ready to generate and check with. */
export interface PolicyProfile {
  readonly id: string;
  readonly name: string;
  readonly flavour: ProfileFlavour;
  readonly description: string;
  readonly upstream: UpstreamVersions;
  readonly facts: readonly ProfileFact[];
  readonly settings: Settings;
  /** The Rego rules; one rules file serves every profile, switched by policy_data fields. */
  readonly rules: string;
  readonly runtime: RuntimeFacts;
  readonly annotation: AnnotationFormat;
  readonly tarfs: TarfsFlavour;
}
