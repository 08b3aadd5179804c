import type { ImageMetadataSource } from "@contrast/oci";
import type { DenialReason } from "@contrast/policy";

/** One workload as deployed, and what the runtime needs to build its agent requests. */
export interface AdmissionInput {
  /** The deployed YAML text of ONE workload document (as applied). */
  readonly yaml: string;
  /** Other deployed documents (ConfigMaps and Secrets that env vars and volumes refer to). */
  readonly documents?: readonly unknown[];
  /** Image metadata by reference as the YAML writes it (an OCI layout source in the demo). */
  readonly images: ImageMetadataSource;
  /** The policy profile whose runtime sends the requests; default "sim". */
  readonly platform?: string;
  readonly podName: string;
  readonly namespace: string;
  /** The pod's IP, for env vars from status.podIP (the runtime knows it before the containers). */
  readonly podIp?: string;
  /** The node's address, for env vars from status.hostIP. */
  readonly hostIp?: string;
}

export interface AdmittedVolumeMount {
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly: boolean;
  readonly subPath?: string;
}

/** A pod volume as the local runtime provides it. */
export type PodVolume =
  | { readonly name: string; readonly kind: "emptyDir"; readonly medium?: string }
  /** A PersistentVolumeClaim or a StatefulSet volumeClaimTemplate: `claim` names the claim. */
  | { readonly name: string; readonly kind: "claim"; readonly claim: string }
  /** A configMap, secret or downwardAPI-free projected volume: file path (relative) -> content, decoded. */
  | { readonly name: string; readonly kind: "files"; readonly files: Readonly<Record<string, string>> };

/** How the kubelet probes a container; exec probes passed the agent's ExecProcessRequest rule. */
export type ProbeAction =
  | {
      readonly kind: "httpGet";
      readonly port: number;
      readonly path: string;
      readonly scheme: "HTTP" | "HTTPS";
      readonly host?: string;
    }
  | { readonly kind: "tcpSocket"; readonly port: number; readonly host?: string }
  | { readonly kind: "exec"; readonly command: readonly string[] };

export interface AdmittedProbe {
  readonly type: "readiness" | "liveness" | "startup";
  readonly action: ProbeAction;
  /**
   * False for an exec probe whose ExecProcessRequest the policy denies: the agent refuses the
   * exec each time, so the kubelet sees the probe fail (the runtime must treat it as failing).
   */
  readonly allowed: boolean;
  /** Why the exec was denied. */
  readonly denial?: PodDenial;
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

export interface AdmittedContainer {
  readonly name: string;
  /** sidecar = an init container with restartPolicy Always. */
  readonly role: "init" | "sidecar" | "main";
  /** The image reference as written in the YAML. */
  readonly image: string;
  /** From the allowed CreateContainerRequest's OCI.Process. */
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: { readonly uid: number; readonly gid: number };
  readonly volumeMounts: readonly AdmittedVolumeMount[];
  readonly ports: readonly { readonly containerPort: number; readonly protocol: string; readonly name?: string }[];
  readonly probes: readonly AdmittedProbe[];
  readonly restartPolicy: "Always" | "OnFailure" | "Never";
  /** The container's securityContext.privileged (the service mesh needs NET_ADMIN for iptables). */
  readonly privileged: boolean;
  /** The capabilities of the allowed request's OCI.Process (Bounding set). */
  readonly capabilities: readonly string[];
}

export interface PodDenial {
  /** The request the agent denied, e.g. "CreateContainerRequest". */
  readonly request: string;
  /** The container it was for ("pause" for the sandbox container), when it was a container's. */
  readonly container?: string;
  readonly reasons: readonly DenialReason[];
  /** One paragraph for humans, as `contrast policy check --honest` prints it. */
  readonly text: string;
}

export interface PodAdmission {
  readonly allowed: boolean;
  /** SHA-256 hex of the policy annotation's Rego text (the sim TEE's HOST_DATA); undefined without a policy. */
  readonly policyHash: string | undefined;
  /**
   * The containers whose requests the agent allowed, in the order the runtime creates them
   * (init containers, then containers). When `allowed` is false the pod is blocked: the runtime
   * starts none of them (the list still shows the ones allowed before the denial).
   */
  readonly containers: readonly AdmittedContainer[];
  readonly volumes: readonly PodVolume[];
  readonly denial?: PodDenial;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly hostname: string;
  /** The pod's runtimeClassName as deployed. */
  readonly runtimeClassName: string | undefined;
  /** The pod spec's restartPolicy (Deployments and StatefulSets: Always). */
  readonly restartPolicy: "Always" | "OnFailure" | "Never";
}

/** An exec at run time (an exec probe): decided against the pod's policy with the state admission left. */
export interface ExecDecision {
  readonly allowed: boolean;
  readonly denial?: PodDenial;
}
