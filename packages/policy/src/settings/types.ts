/**
 * The settings document (genpolicy-settings.json): the platform's fixed parts of every policy.
 * Field names follow Kata's genpolicy, so a settings file and its JSON-Patch drop-ins work with
 * either tool. Only the fields policy generation reads are typed; everything else is kept and
 * copied through where genpolicy copies it.
 */
export interface SettingsMount {
  readonly destination: string;
  readonly type_: string;
  readonly source?: string;
  readonly options: readonly string[];
}

export interface InfraContainer {
  readonly Root?: { readonly Path: string; readonly Readonly?: boolean };
  readonly Mounts?: readonly SettingsMount[];
  readonly Annotations?: Readonly<Record<string, string>>;
  readonly Process?: {
    readonly NoNewPrivileges?: boolean;
    readonly Args?: readonly string[];
    readonly Env?: readonly string[];
    readonly Cwd?: string;
  };
  readonly Linux?: {
    readonly Sysctl?: Readonly<Record<string, string>>;
    readonly MaskedPaths?: readonly string[];
    readonly ReadonlyPaths?: readonly string[];
  };
}

export interface VolumeSettings {
  readonly mount_type: string;
  readonly mount_source: string;
  readonly mount_point?: string;
  readonly driver?: string;
  readonly driver_options?: readonly string[];
  readonly source?: string;
  readonly fstype?: string;
  readonly options?: readonly string[];
  readonly shared?: boolean;
}

export interface StorageSettings {
  readonly driver: string;
  readonly driver_options: readonly string[];
  readonly source: string;
  readonly fstype: string;
  readonly options: readonly string[];
  readonly mount_point: string;
  readonly fs_group: unknown;
  readonly shared?: boolean;
}

export interface TardevSettings {
  readonly overlay_fstype?: string;
  readonly layer_option_encoding?: "plain" | "base64";
  readonly layer_src_prefix?: string;
}

export interface Settings {
  readonly pause_container: InfraContainer;
  readonly other_container: InfraContainer;
  readonly volumes: Readonly<Record<string, VolumeSettings>>;
  readonly devices?: {
    readonly vfio?: {
      readonly device_path: string;
      readonly anno_key_regex: string;
      readonly nvidia?: {
        readonly gpu_anno_value_regex: string;
        readonly gpu_gk_device_type: string;
        readonly pgpu_resource_keys: readonly string[];
      };
    };
  };
  readonly mount_destinations?: readonly string[];
  readonly sandbox: {
    readonly storages: readonly StorageSettings[];
    /** Guest hook paths CreateSandboxRequest may name (Contrast's genpolicy patch); none by default. */
    readonly allowed_guest_hooks?: readonly string[];
  };
  readonly common: {
    readonly cpath: string;
    readonly spath?: string;
    readonly root_path?: string;
    readonly sfprefix: string;
    readonly default_caps: readonly string[];
    readonly privileged_caps: readonly string[];
    readonly image_layer_verification?: string;
    /**
     * How host-pulled layers reach the guest through a tardev snapshotter whose format differs
     * from stock Kata's (Microsoft's fork on AKS): the overlay's fstype, how its layer options
     * are encoded, and a regex the overlay's layer-src-prefix directory must match.
     */
    readonly tardev?: TardevSettings;
    readonly [key: string]: unknown;
  };
  readonly kata_config: {
    readonly oci_version: string;
    readonly enable_configmap_secret_storages?: boolean;
    readonly [key: string]: unknown;
  };
  readonly cluster_config: {
    readonly pause_container_image: string;
    readonly guest_pull?: boolean;
    /**
     * With guest pull: every container, the sandbox's too, must come with its guest-pull storage
     * (Contrast's rules); Kata's leave that to the runtime. Off when absent.
     */
    readonly guest_pull_required?: boolean;
    readonly emptydir_type?: string;
    readonly cgroup_mount_extras_allowed?: readonly string[];
    /** false: the rules do not compare the OCI Version (Contrast's rules). Default: compared. */
    readonly check_oci_version?: boolean;
    /** false: the rules accept any Linux.RootfsPropagation (Contrast's rules). Default: must be empty. */
    readonly check_rootfs_propagation?: boolean;
    /** true: an emptyDir mount carries the pod's mountPropagation (Contrast's genpolicy). */
    readonly emptydir_mount_propagation?: boolean;
    /**
     * true: with a privileged container in the pod, the pause container's /sys is expected RW, and
     * a /sys expected RW may be mounted RO (Contrast's genpolicy, for containerd before and since
     * 2.0.4).
     */
    readonly privileged_sysfs_ro_or_rw?: boolean;
    readonly [key: string]: unknown;
  };
  readonly request_defaults: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}
