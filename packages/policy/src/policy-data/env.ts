import { isRecord, type JsonRecord } from "@contrast/kube";
import type { ConfigSources } from "../config-sources.js";
import { PolicyError } from "../errors.js";

/** What an env var's valueFrom may refer to, beyond ConfigMaps and Secrets. */
export interface PodFacts {
  readonly namespace: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly serviceAccountName: string;
  /** `<file>: <Kind>/<name>`, for messages. */
  readonly where: string;
  readonly file: string | undefined;
}

/** Where in the input a container is, for messages and error paths. */
interface At {
  /** `<file>: <Kind>/<name>: container <name>`. */
  readonly text: string;
  readonly file: string | undefined;
  /** Full path of the container, e.g. "spec.template.spec.containers[0]". */
  readonly path: string;
}

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Placeholders for values only the node knows. The rules accept any value for them (pod IP and
 * host IP must look like an IPv4 address); `$(sandbox-name)` is the pod's name.
 */
const FIELD_PLACEHOLDERS: Readonly<Record<string, string>> = {
  "metadata.name": "$(sandbox-name)",
  "metadata.uid": "$(pod-uid)",
  "status.hostIP": "$(host-ip)",
  "status.podIP": "$(pod-ip)",
  "status.podIPs": "$(pod-ip)",
  "spec.nodeName": "$(node-name)",
};

/** Sets NAME=value, replacing an earlier NAME (the pod's env overrides the image's). */
function setVar(env: string[], name: string, value: string): void {
  const prefix = `${name}=`;
  const line = `${prefix}${value}`;
  const i = env.findIndex((e) => e.startsWith(prefix));
  if (i >= 0) env[i] = line;
  else env.push(line);
}

/**
 * The environment the container process gets: the image's ENV (or containerd's default PATH),
 * then the container's env and envFrom, resolved against ConfigMaps, Secrets and the downward
 * API. Variables that Kubernetes adds at run time (service links, HOSTNAME) are not listed:
 * the rules allow them through `request_defaults.CreateContainerRequest.allow_env_regex`.
 */
export function containerEnv(
  imageEnv: readonly string[] | undefined,
  container: JsonRecord,
  sources: ConfigSources,
  pod: PodFacts,
  containerPath: string,
  runtimeEnv: readonly string[] = [],
): string[] {
  const env = imageEnv === undefined || imageEnv.length === 0 ? [DEFAULT_PATH] : [...imageEnv];
  for (const e of runtimeEnv) {
    const eq = e.indexOf("=");
    setVar(env, e.slice(0, eq), e.slice(eq + 1));
  }
  const at: At = {
    text: `${pod.where}: container ${String(container.name ?? "")}`,
    file: pod.file,
    path: containerPath,
  };
  // genpolicy reads spec.serviceAccountName for the downward API from the container's own
  // (non-Kubernetes) serviceAccountName field when it is set.
  const facts: PodFacts =
    typeof container.serviceAccountName === "string"
      ? { ...pod, serviceAccountName: container.serviceAccountName }
      : pod;
  if (Array.isArray(container.env)) {
    container.env.forEach((item, i) => {
      if (!isRecord(item) || typeof item.name !== "string") return;
      const value = envValue(item, sources, facts, { ...at, path: `${at.path}.env[${i}]` }, env);
      if (value !== undefined) setVar(env, item.name, value);
    });
  }
  if (Array.isArray(container.envFrom)) {
    for (const [i, from] of container.envFrom.entries()) {
      if (!isRecord(from)) continue;
      const prefix = typeof from.prefix === "string" ? from.prefix : "";
      const ref = isRecord(from.configMapRef)
        ? from.configMapRef
        : isRecord(from.secretRef)
          ? from.secretRef
          : undefined;
      if (ref === undefined) continue;
      const kind = isRecord(from.configMapRef) ? "ConfigMap" : "Secret";
      const name = typeof ref.name === "string" ? ref.name : "";
      const data = kind === "ConfigMap" ? sources.configMap(name, pod.namespace) : sources.secret(name, pod.namespace);
      if (data === undefined) {
        if (ref.optional === true) continue;
        throw missingRef(
          at,
          kind,
          name,
          `${at.path}.envFrom[${i}].${kind === "ConfigMap" ? "configMapRef" : "secretRef"}`,
        );
      }
      for (const [k, v] of data) setVar(env, `${prefix}${k}`, v);
    }
  }
  return env;
}

function envValue(
  item: JsonRecord,
  sources: ConfigSources,
  pod: PodFacts,
  at: At,
  env: readonly string[],
): string | undefined {
  if (item.value !== undefined && item.value !== null) return expandVars(String(item.value), env);
  const from = item.valueFrom;
  if (!isRecord(from)) return "";
  for (const [field, kind] of [
    ["configMapKeyRef", "ConfigMap"],
    ["secretKeyRef", "Secret"],
  ] as const) {
    const ref = from[field];
    if (!isRecord(ref)) continue;
    const name = typeof ref.name === "string" ? ref.name : "";
    const key = typeof ref.key === "string" ? ref.key : "";
    const data = kind === "ConfigMap" ? sources.configMap(name, pod.namespace) : sources.secret(name, pod.namespace);
    const value = data?.get(key);
    if (value === undefined) {
      if (ref.optional === true) return undefined;
      throw missingRef(at, kind, `${name}/${key}`, `${at.path}.valueFrom.${field}`);
    }
    return value;
  }
  if (isRecord(from.fieldRef)) {
    const path = String(from.fieldRef.fieldPath ?? "");
    const placeholder = FIELD_PLACEHOLDERS[path];
    if (placeholder !== undefined) return placeholder;
    if (path === "metadata.namespace") return pod.namespace ?? "$(sandbox-namespace)";
    if (path === "spec.serviceAccountName") return pod.serviceAccountName;
    const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
    if (m?.[2] !== undefined) {
      const value = (m[1] === "labels" ? pod.labels : pod.annotations)[m[2]];
      if (value !== undefined) return value;
      // Kubernetes gives an empty value for a missing label or annotation.
      return "";
    }
    throw new PolicyError("POLICY_ENV_UNSUPPORTED", `${at.text}: env var ${String(item.name)} refers to ${path}`, {
      path: `${at.path}.valueFrom.fieldRef.fieldPath`,
      ...(at.file === undefined ? {} : { file: at.file }),
      hint: "Supported fieldRef paths: metadata.name/namespace/uid/labels['k']/annotations['k'], spec.nodeName, spec.serviceAccountName, status.hostIP/podIP/podIPs.",
    });
  }
  // Resource limits are decided by the node; the rules accept any value for this placeholder.
  if (isRecord(from.resourceFieldRef)) return "$(resource-field)";
  throw new PolicyError("POLICY_ENV_UNSUPPORTED", `${at.text}: env var ${String(item.name)} has an unknown valueFrom`, {
    path: `${at.path}.valueFrom`,
    ...(at.file === undefined ? {} : { file: at.file }),
    hint: "Use value, or valueFrom with configMapKeyRef, secretKeyRef, fieldRef or resourceFieldRef.",
  });
}

/**
 * Kubernetes' $(VAR) expansion in values, command and args: $(NAME) of an earlier variable is
 * replaced, $$ stays as it is (the agent sees "$"; the rules undo the escape), anything else is
 * kept literally.
 */
export function expandVars(text: string, env: readonly string[]): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "$" && text[i + 1] === "$") {
      out += "$$";
      i++;
    } else if (c === "$" && text[i + 1] === "(") {
      const end = text.indexOf(")", i + 2);
      const name = end < 0 ? "" : text.slice(i + 2, end);
      const found = name === "" ? undefined : env.find((e) => e.startsWith(`${name}=`));
      if (found !== undefined) {
        out += found.slice(name.length + 1);
        i = end;
      } else out += c;
    } else out += c;
  }
  return out;
}

function missingRef(at: At, kind: string, name: string, path: string): PolicyError {
  return new PolicyError("POLICY_CONFIG_REF_MISSING", `${at.text}: ${path}: ${kind} ${name} is not among the inputs`, {
    path,
    ...(at.file === undefined ? {} : { file: at.file }),
    hint: `Pass the file that defines the ${kind} together with the workload, or mark the reference optional.`,
  });
}
