/**
 * The policy_data document, in the schema Kata's genpolicy emits (field names and nesting as the
 * agent's requests spell them), so that Kata's own rules.rego can evaluate it too.
 */
export interface KataUser {
  UID: number;
  GID: number;
  AdditionalGids: number[];
  Username: string;
}

export interface KataCapabilities {
  Ambient: string[];
  Bounding: string[];
  Effective: string[];
  Inheritable: string[];
  Permitted: string[];
}

export interface KataProcess {
  Terminal: boolean;
  User: KataUser;
  Args: string[];
  Env: string[];
  Cwd: string;
  Capabilities: KataCapabilities;
  NoNewPrivileges: boolean;
}

export interface KataMount {
  destination: string;
  source: string;
  type_: string;
  options: string[];
}

export interface KataLinux {
  Namespaces: { Type: string; Path: string }[];
  MaskedPaths: string[];
  ReadonlyPaths: string[];
  Devices: { Type: string; Path: string }[];
  Sysctl: Record<string, string>;
}

export interface KataSpec {
  Version: string;
  Process: KataProcess;
  Root: { Path: string; Readonly: boolean };
  Mounts: KataMount[];
  Annotations: Record<string, string>;
  Linux: KataLinux;
}

export interface Storage {
  driver: string;
  driver_options: string[];
  source: string;
  fstype: string;
  options: string[];
  mount_point: string;
  fs_group: { group_id: number; group_change_policy: number } | null;
  shared: boolean;
}

export interface Device {
  id: string;
  type_: string;
  vm_path: string;
  container_path: string;
  options: string[];
}

export interface ContainerPolicy {
  OCI: KataSpec;
  storages: Storage[];
  devices: Device[];
  sandbox_pidns: boolean;
  exec_commands: string[][];
  /** Annotation key regex -> value regex, for annotations the runtime adds (CDI devices). */
  runtime_anno_patterns: Record<string, string>;
}

export interface PolicyData {
  containers: ContainerPolicy[];
  common: Record<string, unknown>;
  sandbox: { storages: unknown[]; allowed_guest_hooks?: string[] };
  request_defaults: Record<string, unknown>;
  cluster_config: Record<string, unknown>;
  devices?: unknown;
}
