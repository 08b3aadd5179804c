import type { ServiceEntry } from "./types.js";

/** A pod as cluster DNS sees it. */
export interface DnsPod {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Later pods win when a selector matches several (a restarted pod replaces its predecessor). */
  readonly startedAt: number;
}

function matches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

/**
 * The hosts file of a pod: localhost, the pod's own hostname, and every Service's four names
 * mapped to the IP of the newest pod its selector matches in the Service's namespace. There is
 * no kube-proxy: a Service name resolves straight to a pod IP.
 */
export function renderHosts(
  self: { readonly ip: string; readonly hostname: string; readonly namespace: string },
  services: readonly ServiceEntry[],
  pods: readonly DnsPod[],
): string {
  const lines = [
    "# Kubernetes-managed hosts file (written by the localrun runtime).",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    `${self.ip}\t${self.hostname}`,
  ];
  for (const svc of services) {
    const target = pods
      .filter((p) => p.namespace === svc.namespace && matches(svc.selector, p.labels))
      .sort((a, b) => b.startedAt - a.startedAt)[0];
    if (target === undefined) continue;
    const names = [
      svc.name,
      `${svc.name}.${svc.namespace}`,
      `${svc.name}.${svc.namespace}.svc`,
      `${svc.name}.${svc.namespace}.svc.cluster.local`,
    ];
    lines.push(`${target.ip}\t${names.join(" ")}`);
  }
  return `${lines.join("\n")}\n`;
}

export function renderResolvConf(namespace: string): string {
  // No name server: every cluster name is in /etc/hosts. The search list lets programs that try
  // the resolver with short names behave as in a pod.
  return `search ${namespace}.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`;
}

export function renderPasswd(ids: readonly { readonly uid: number; readonly gid: number }[]): string {
  const lines = ["root:x:0:0:root:/root:/bin/sh", "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"];
  const seen = new Set([0, 65534]);
  for (const { uid, gid } of ids) {
    if (seen.has(uid)) continue;
    seen.add(uid);
    lines.push(`user${uid}:x:${uid}:${gid}::/:/usr/sbin/nologin`);
  }
  return `${lines.join("\n")}\n`;
}

export function renderGroup(ids: readonly { readonly uid: number; readonly gid: number }[]): string {
  const lines = ["root:x:0:", "nogroup:x:65534:"];
  const seen = new Set([0, 65534]);
  for (const { gid } of ids) {
    if (seen.has(gid)) continue;
    seen.add(gid);
    lines.push(`group${gid}:x:${gid}:`);
  }
  return `${lines.join("\n")}\n`;
}

export const NSSWITCH_CONF =
  "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nservices: files\nprotocols: files\n";
