import type { Logger } from "@contrast/core";
import type { Host } from "./host.js";

/**
 * What the runtime needs of a pod's admission. D2's `PodAdmission` (admission.ts) is assignable to
 * it; the runtime names only the fields it reads so it does not depend on how admission works.
 */
export interface RuntimePodAdmission {
  readonly allowed: boolean;
  /** Containers admitted, in the order the Kata runtime creates them (inits, sidecars, mains). */
  readonly containers: readonly RuntimeContainer[];
  readonly volumes: readonly RuntimeVolume[];
  readonly denial?: {
    readonly request: string;
    readonly container?: string;
    readonly reasons: readonly unknown[];
    readonly text: string;
  };
  readonly labels: Readonly<Record<string, string>>;
  readonly hostname: string;
}

export interface RuntimeContainer {
  readonly name: string;
  readonly role: "init" | "sidecar" | "main";
  readonly image: string;
  /** The allowed OCI.Process args, env (KEY=VALUE) and cwd: exactly what is started. */
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: { readonly uid: number; readonly gid: number };
  readonly volumeMounts: readonly {
    readonly name: string;
    readonly mountPath: string;
    readonly readOnly: boolean;
    readonly subPath?: string;
  }[];
  readonly probes: readonly RuntimeProbe[];
  readonly restartPolicy: "Always" | "OnFailure" | "Never";
  /** securityContext.privileged: the process keeps every capability. */
  readonly privileged?: boolean;
  /**
   * The allowed OCI.Process bounding capabilities ("CAP_NET_ADMIN", ...): the process gets these
   * and no others. Absent: the runtime leaves the capability set as it is.
   */
  readonly capabilities?: readonly string[];
}

export type RuntimeProbeAction =
  | {
      readonly kind: "httpGet";
      readonly port: number;
      readonly path: string;
      readonly scheme: "HTTP" | "HTTPS";
      readonly host?: string;
    }
  | { readonly kind: "tcpSocket"; readonly port: number; readonly host?: string }
  | { readonly kind: "exec"; readonly command: readonly string[] };

export interface RuntimeProbe {
  readonly type: "readiness" | "liveness" | "startup";
  readonly action: RuntimeProbeAction;
  /**
   * False when the policy denies the exec probe's ExecProcessRequest: the agent refuses the exec
   * every time, so the probe fails without running (absent: allowed).
   */
  readonly allowed?: boolean;
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

export type RuntimeVolume =
  | { readonly name: string; readonly kind: "emptyDir"; readonly medium?: string }
  | { readonly name: string; readonly kind: "claim"; readonly claim: string }
  | { readonly name: string; readonly kind: "files"; readonly files: Readonly<Record<string, string>> };

/** A host directory or file bind-mounted into every container of a pod. */
export interface ExtraMount {
  readonly hostPath: string;
  readonly mountPath: string;
  readonly readOnly: boolean;
}

export interface PodToRun {
  readonly name: string;
  readonly namespace: string;
  readonly admission: RuntimePodAdmission;
  /** The unpacked root file system of an image reference (see `unpackImage`); read, never written. */
  readonly rootfsFor: (image: string) => Promise<string>;
  /**
   * The pod VM's own variables, set outside the policy-checked request as Kata sets HOST_DATA:
   * `CONTRAST_SIM_DIR` (also bind-mounted read-only at the same path) and
   * `CONTRAST_SIM_POLICY_HASH`.
   */
  readonly vmEnv: Readonly<Record<string, string>>;
  /** The host directory of a claim (PVC or volumeClaimTemplate); it outlives the pod. */
  readonly claimDir: (claim: string) => string;
  readonly extraMounts?: readonly ExtraMount[];
}

/** A Kubernetes Service as cluster DNS needs it: its names resolve to the pod its selector picks. */
export interface ServiceEntry {
  readonly name: string;
  readonly namespace: string;
  readonly selector: Readonly<Record<string, string>>;
}

export type ContainerState =
  | { readonly state: "waiting"; readonly reason: string }
  | { readonly state: "running"; readonly pid: number; readonly startedAt: number }
  | {
      readonly state: "terminated";
      readonly exitCode: number | undefined;
      readonly signal: string | undefined;
      readonly finishedAt: number;
    };

export interface ContainerStatus {
  readonly name: string;
  readonly role: "init" | "sidecar" | "main";
  readonly current: ContainerState;
  readonly ready: boolean;
  readonly restartCount: number;
  /** The last exit, as kubectl shows "Last State". */
  readonly lastExit: { readonly exitCode: number | undefined; readonly signal: string | undefined } | undefined;
}

export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Blocked" | "Stopped";

export interface PodStatus {
  readonly phase: PodPhase;
  readonly ip: string;
  /** All init containers have completed (sidecars: started). */
  readonly initialized: boolean;
  /** Every main and sidecar container is running and passes its readiness probe. */
  readonly ready: boolean;
  readonly containers: readonly ContainerStatus[];
  /** Set when the agent policy denied a request of this pod. */
  readonly blocked?: {
    readonly request: string;
    readonly container?: string;
    readonly reasons: readonly unknown[];
    readonly text: string;
  };
}

/** Running: every main container has started. Succeeded: every main exited 0 for good (Jobs, tests). */
export type PodCondition = "Initialized" | "Ready" | "Running" | "Succeeded";

export type PodEvent =
  | { readonly type: "sandbox-started"; readonly pod: string; readonly ip: string }
  | { readonly type: "started"; readonly pod: string; readonly container: string; readonly pid: number }
  | {
      readonly type: "exited";
      readonly pod: string;
      readonly container: string;
      readonly exitCode: number | undefined;
      readonly signal: string | undefined;
    }
  | { readonly type: "restarting"; readonly pod: string; readonly container: string; readonly delayMs: number }
  | { readonly type: "ready"; readonly pod: string; readonly container: string; readonly ready: boolean }
  | {
      readonly type: "probe-failed";
      readonly pod: string;
      readonly container: string;
      readonly probe: string;
      readonly reason: string;
    }
  | {
      readonly type: "blocked";
      readonly pod: string;
      readonly container: string | undefined;
      readonly request: string;
      readonly text: string;
    }
  | { readonly type: "failed"; readonly pod: string; readonly container: string; readonly reason: string }
  | { readonly type: "stopped"; readonly pod: string };

export interface RunningPod {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  /** `<workDir>/pods/<ns>_<pod>`: logs, hosts file, emptyDir volumes. */
  readonly dir: string;
  status(): PodStatus;
  /** Resolves when the condition holds; rejects (LOCALRUN_POD_*) when it cannot or on timeout. */
  waitFor(condition: PodCondition, timeoutMs: number): Promise<void>;
  /** The container's stdout and stderr so far, across restarts. */
  logs(container: string): string;
  /** Sends a signal to the container's process; its restart policy decides what happens next. */
  kill(container: string, signal?: NodeJS.Signals): void;
  /** Stops the container now (SIGKILL) and starts it again at once, counting a restart. */
  restartContainer(container: string): Promise<void>;
  /** Kills every container and the sandbox; idempotent. Claim directories are kept. */
  stop(): Promise<void>;
  on(event: "event", listener: (event: PodEvent) => void): this;
  off(event: "event", listener: (event: PodEvent) => void): this;
}

export interface LocalCluster {
  readonly workDir: string;
  /** The address the host side has on the pod network (the subnet's .1). */
  readonly hostAddress: string;
  /** The pod network, e.g. `10.213.7.0/24`. */
  readonly subnet: string;
  /** Whether this runs inside a user namespace with root mapped to an unprivileged user. */
  readonly rootless: boolean;
  readonly pods: () => readonly RunningPod[];
  /** Starts the sandbox, then init containers in order, sidecars, mains. A blocked pod is returned with phase Blocked. */
  runPod(pod: PodToRun): Promise<RunningPod>;
  /** Rewrites every running pod's hosts file; later pods get it too. */
  setServices(services: readonly ServiceEntry[]): void;
  /** Kills every process, removes namespaces and veths; idempotent. */
  close(): Promise<void>;
}

export interface LocalClusterOptions {
  /** Everything the runtime writes lives under here (pods/, runtime/). */
  readonly workDir: string;
  readonly host?: Host;
  readonly log?: Logger;
  /** The pod network; default: a free 10.x.y.0/24 chosen from the host's routes. */
  readonly subnet?: string;
}
