import { sha256Hex, utf8 } from "@contrast/core";
import type { PodTemplate } from "@contrast/kube";

/**
 * What the node decides about a pod, which no manifest says: its name and IDs, IPs, the network
 * namespace. Everything is a parameter so that a test (or the demo runtime) can vary it; the
 * defaults are fixed, made-up values of the right shape.
 */
export interface SandboxIdentity {
  /** The pod's name; default: the Pod's name, or a controller-made name (`web-5d8f9c7b6d-x7k2p`). */
  readonly sandboxName?: string;
  /** Default: the workload's namespace, else "default". */
  readonly namespace?: string;
  /** 64 lowercase hex characters; also the pause container's ID. */
  readonly sandboxId?: string;
  readonly podUid?: string;
  readonly podIp?: string;
  readonly hostIp?: string;
  readonly nodeName?: string;
  /** The UUID of the CNI network namespace (`/var/run/netns/cni-<uuid>`). */
  readonly netnsId?: string;
  /** The cluster IP of the `kubernetes` service, for the service environment variables. */
  readonly kubernetesServiceIp?: string;
}

export type ResolvedIdentity = Required<SandboxIdentity>;

/** A made-up but stable identifier: the first n hex digits of a seed's SHA-256. */
export function hex(seed: string, n: number): string {
  return sha256Hex(utf8(seed)).slice(0, n);
}

export function uuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The name a controller gives the pods of a template, as the API server would. */
export function defaultSandboxName(t: PodTemplate): string {
  const base = t.name !== "" ? t.name : (t.generateName ?? "pod").replace(/-$/, "");
  switch (t.kind) {
    case "Pod":
      return t.name !== "" ? t.name : `${t.generateName ?? "pod-"}x7k2p`;
    case "Deployment":
      return `${base}-5d8f9c7b6d-x7k2p`;
    case "StatefulSet":
      return `${base}-0`;
    case "CronJob":
      return `${base}-28934400-x7k2p`;
    default:
      return `${base}-x7k2p`;
  }
}

export function resolveIdentity(t: PodTemplate, given: SandboxIdentity = {}): ResolvedIdentity {
  const sandboxName = given.sandboxName ?? defaultSandboxName(t);
  const namespace = given.namespace ?? t.namespace ?? "default";
  const seed = `${namespace}/${sandboxName}`;
  return {
    sandboxName,
    namespace,
    sandboxId: given.sandboxId ?? hex(`sandbox:${seed}`, 64),
    podUid: given.podUid ?? uuid(`uid:${seed}`),
    podIp: given.podIp ?? "10.244.0.21",
    hostIp: given.hostIp ?? "192.168.49.2",
    nodeName: given.nodeName ?? "node-1",
    netnsId: given.netnsId ?? uuid(`netns:${seed}`),
    kubernetesServiceIp: given.kubernetesServiceIp ?? "10.96.0.1",
  };
}
