import { CONTRAST_ANNOTATIONS } from "./annotations.js";
import type { Finding, YamlFile } from "./findings.js";
import { sourcedObjects } from "./resources.js";
import { isContrastRuntimeClass } from "./runtime-class.js";
import {
  isRecord,
  isWorkloadKind,
  type JsonRecord,
  podMetadataOf,
  podTemplates,
  runtimeClassName,
} from "./workloads.js";

/**
 * The service-mesh annotation grammars (reference §2.2.2), checked here before the sidecar is
 * injected, so that a mistake shows up at `contrast generate` time instead of as a sidecar that
 * fails to start in the cluster. The proxy accepts what these parsers accept and more (it casts
 * ports to 16 bits without a range check): where it is lax, we are strict (docs/injection.md).
 */

/** One ingress entry: `name#port#disableTLS`. */
export interface IngressEntry {
  readonly name: string;
  readonly port: number;
  /** true: no TLS on that port at all; false: TLS without a client certificate. */
  readonly disableTLS: boolean;
}

/** One egress entry: `name#listenIP:port#remoteHost:port`. */
export interface EgressEntry {
  readonly name: string;
  readonly listenAddress: string;
  readonly listenPort: number;
  readonly remoteHost: string;
  readonly remotePort: number;
}

/** A problem with one entry of an annotation value. */
export interface EntryProblem {
  /** The entry as written (between `##`). */
  readonly entry: string;
  /** Its 0-based position among the value's non-empty entries. */
  readonly index: number;
  readonly message: string;
}

export interface ParsedEntries<T> {
  readonly entries: readonly T[];
  readonly problems: readonly EntryProblem[];
}

// Go's strconv.ParseBool, which the proxy uses.
const GO_BOOLS: Readonly<Record<string, boolean>> = {
  "1": true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  "0": false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/** A TCP port as a decimal between 1 and 65535, or undefined. */
export function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Splits at `##`, skipping empty entries as the proxy does (a trailing `##` is allowed). */
function entriesOf(value: string): string[] {
  return value.split("##").filter((e) => e !== "");
}

/** Parses a `servicemesh-ingress` value; every entry is checked, all problems are returned. */
export function parseIngressConfig(value: string): ParsedEntries<IngressEntry> {
  const entries: IngressEntry[] = [];
  const problems: EntryProblem[] = [];
  const seen = new Map<number, string>();
  for (const [index, entry] of entriesOf(value).entries()) {
    const parts = entry.split("#");
    if (parts.length !== 3) {
      problems.push({
        entry,
        index,
        message: `entry ${JSON.stringify(entry)} has ${parts.length} fields, not 3 (name#port#disableTLS)`,
      });
      continue;
    }
    const [name = "", portText = "", boolText = ""] = parts;
    const port = parsePort(portText);
    const disableTLS = GO_BOOLS[boolText];
    if (port === undefined)
      problems.push({ entry, index, message: `port ${JSON.stringify(portText)} is not a port number (1-65535)` });
    if (disableTLS === undefined) {
      problems.push({ entry, index, message: `disableTLS ${JSON.stringify(boolText)} is not true or false` });
    }
    if (port === undefined || disableTLS === undefined) continue;
    const earlier = seen.get(port);
    if (earlier !== undefined) {
      problems.push({
        entry,
        index,
        message: `port ${port} is already configured by entry ${JSON.stringify(earlier)}`,
      });
      continue;
    }
    seen.set(port, entry);
    entries.push({ name, port, disableTLS });
  }
  return { entries, problems };
}

/** Parses a `servicemesh-egress` value; every entry is checked, all problems are returned. */
export function parseEgressConfig(value: string): ParsedEntries<EgressEntry> {
  const entries: EgressEntry[] = [];
  const problems: EntryProblem[] = [];
  const seen = new Map<string, string>();
  for (const [index, entry] of entriesOf(value).entries()) {
    const parts = entry.split("#");
    if (parts.length !== 3) {
      problems.push({
        entry,
        index,
        message: `entry ${JSON.stringify(entry)} has ${parts.length} fields, not 3 (name#listen#remote)`,
      });
      continue;
    }
    const [name = "", listen = "", remote = ""] = parts;
    const before = problems.length;
    const l = splitHostPort(listen);
    let listenAddress: string | undefined;
    let listenPort: number | undefined;
    if (l === undefined || !isIPv4(l.host) || l.bracketed) {
      problems.push({ entry, index, message: `listen address ${JSON.stringify(listen)} is not <IPv4>:<port>` });
    } else {
      listenAddress = l.host;
      listenPort = parsePort(l.port);
      if (!l.host.startsWith("127.")) {
        problems.push({ entry, index, message: `listen address ${l.host} is not in the loopback range 127.0.0.0/8` });
      }
      if (listenPort === undefined)
        problems.push({
          entry,
          index,
          message: `listen port ${JSON.stringify(l.port)} is not a port number (1-65535)`,
        });
    }
    const r = splitHostPort(remote);
    let remotePort: number | undefined;
    if (r === undefined || r.host === "") {
      problems.push({ entry, index, message: `remote ${JSON.stringify(remote)} is not <host>:<port>` });
    } else {
      remotePort = parsePort(r.port);
      if (remotePort === undefined)
        problems.push({
          entry,
          index,
          message: `remote port ${JSON.stringify(r.port)} is not a port number (1-65535)`,
        });
    }
    if (
      problems.length > before ||
      listenAddress === undefined ||
      listenPort === undefined ||
      r === undefined ||
      remotePort === undefined
    ) {
      continue;
    }
    const key = `${listenAddress}:${listenPort}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.push({
        entry,
        index,
        message: `listen address ${key} is already used by entry ${JSON.stringify(earlier)}`,
      });
      continue;
    }
    seen.set(key, entry);
    entries.push({ name, listenAddress, listenPort, remoteHost: r.host, remotePort });
  }
  return { entries, problems };
}

/** Parses a `servicemesh-admin-interface-port` value. */
export function parseAdminPort(value: string): number | undefined {
  return parsePort(value);
}

/** Go's net.SplitHostPort: "host:port" or "[host]:port", exactly one colon outside brackets. */
function splitHostPort(text: string): { host: string; port: string; bracketed: boolean } | undefined {
  if (text.startsWith("[")) {
    const m = /^\[([^\]]*)\]:([^:]*)$/.exec(text);
    return m === null ? undefined : { host: m[1] ?? "", port: m[2] ?? "", bracketed: true };
  }
  const i = text.lastIndexOf(":");
  if (i < 0 || text.indexOf(":") !== i || /[[\]]/.test(text)) return undefined;
  return { host: text.slice(0, i), port: text.slice(i + 1), bracketed: false };
}

/** Dotted-quad IPv4 as netip.ParseAddr takes it: four decimals 0-255, no leading zeros. */
function isIPv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

const MESH_KEYS = [
  CONTRAST_ANNOTATIONS.meshIngress,
  CONTRAST_ANNOTATIONS.meshEgress,
  CONTRAST_ANNOTATIONS.meshAdminPort,
];

/**
 * Checks the service-mesh annotations of every workload in every file and returns ALL problems
 * at once, each with its resource and the offending entry, so one run of `contrast generate`
 * lists everything to fix. Like the injection, it reads the workload object's own annotations.
 */
export function validateMeshAnnotations(files: YamlFile | readonly YamlFile[]): Finding[] {
  const findings: Finding[] = [];
  for (const { object, ref } of sourcedObjects(Array.isArray(files) ? files : [files as YamlFile])) {
    if (!isWorkloadKind(object.kind) || !runsInContrast(object)) continue;
    const meta = isRecord(object.metadata) ? object.metadata : {};
    const annotations = isRecord(meta.annotations) ? meta.annotations : {};
    // Upstream reads the object's own annotations; on a template they silently do nothing.
    const podMeta = object.kind === "Pod" ? undefined : podMetadataOf(object);
    const podAnnotations = podMeta !== undefined && isRecord(podMeta.annotations) ? podMeta.annotations : {};
    const misplaced = MESH_KEYS.filter((k) => Object.hasOwn(podAnnotations, k) && !Object.hasOwn(annotations, k));
    if (misplaced.length > 0) {
      findings.push({
        code: "KUBE_MESH_ANNOTATION_MISPLACED",
        severity: "warning",
        message: `${misplaced.join(", ")} on the pod template, where generate does not read it: the service mesh is configured from the ${String(object.kind)}'s own annotations`,
        hint: "Move the contrast.edgeless.systems/servicemesh-* annotations to the workload's own metadata.annotations.",
        resource: ref,
        annotation: misplaced[0] as string,
      });
    }
    for (const key of MESH_KEYS) {
      if (!Object.hasOwn(annotations, key)) continue;
      const value = annotations[key];
      const code =
        key === CONTRAST_ANNOTATIONS.meshIngress
          ? "KUBE_MESH_INGRESS_INVALID"
          : key === CONTRAST_ANNOTATIONS.meshEgress
            ? "KUBE_MESH_EGRESS_INVALID"
            : "KUBE_MESH_ADMIN_PORT_INVALID";
      const hint = HINTS[code];
      if (typeof value !== "string") {
        findings.push({
          code,
          severity: "error",
          message: `annotation ${key} must be a string, not ${value === null ? "null" : typeof value} (quote it)`,
          hint,
          resource: ref,
          annotation: key,
          entry: String(value),
        });
        continue;
      }
      if (code === "KUBE_MESH_ADMIN_PORT_INVALID") {
        if (value !== "" && parseAdminPort(value) === undefined) {
          findings.push({
            code,
            severity: "error",
            message: `${key}: ${JSON.stringify(value)} is not a port number (1-65535)`,
            hint,
            resource: ref,
            annotation: key,
            entry: value,
          });
        }
        continue;
      }
      const parsed = code === "KUBE_MESH_INGRESS_INVALID" ? parseIngressConfig(value) : parseEgressConfig(value);
      for (const p of parsed.problems) {
        findings.push({
          code,
          severity: "error",
          message: `${key}: ${p.message}`,
          hint,
          resource: ref,
          annotation: key,
          entry: p.entry,
        });
      }
    }
    const admin = annotations[CONTRAST_ANNOTATIONS.meshAdminPort];
    const ingress = annotations[CONTRAST_ANNOTATIONS.meshIngress];
    const adminPort = typeof admin === "string" ? parseAdminPort(admin) : undefined;
    if (adminPort !== undefined) {
      const plain = typeof ingress === "string" ? parseIngressConfig(ingress).entries : [];
      if (!plain.some((e) => e.port === adminPort && e.disableTLS)) {
        findings.push({
          code: "KUBE_MESH_ADMIN_PORT_UNREACHABLE",
          severity: "warning",
          message: `the admin interface on port ${adminPort} is not excluded from TLS in ${CONTRAST_ANNOTATIONS.meshIngress}: only mesh peers with a client certificate reach it`,
          hint: `Add ##admin#${adminPort}#true to the ${CONTRAST_ANNOTATIONS.meshIngress} annotation to reach the admin interface (metrics) without TLS.`,
          resource: ref,
          annotation: CONTRAST_ANNOTATIONS.meshAdminPort,
          entry: admin as string,
        });
      }
    }
  }
  return findings;
}

/** True when some pod of the workload has a Contrast runtime class, or it cannot be told. */
function runsInContrast(object: JsonRecord): boolean {
  try {
    return podTemplates(object).some((t) => isContrastRuntimeClass(runtimeClassName(t.spec)));
  } catch {
    // A malformed workload fails elsewhere with its own error; its annotations are still checked.
    return true;
  }
}

const HINTS = {
  KUBE_MESH_INGRESS_INVALID:
    "Write entries as name#port#true|false joined by ##, e.g. web#8080#false##metrics#9090#true.",
  KUBE_MESH_EGRESS_INVALID:
    "Write entries as name#<loopback IPv4>:port#<host>:port joined by ##, e.g. emoji#127.137.0.1:8081#emoji-svc:8080.",
  KUBE_MESH_ADMIN_PORT_INVALID: "Set the annotation to a decimal port between 1 and 65535, as a quoted string.",
} as const;
