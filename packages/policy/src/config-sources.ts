import { fromBase64, fromUtf8 } from "@contrast/core";
import { isRecord } from "@contrast/kube";
import { PolicyError } from "./errors.js";

/** Key/value data of the ConfigMaps and Secrets that env vars and volumes refer to. */
export interface ConfigSources {
  configMap(name: string, namespace: string | undefined): ReadonlyMap<string, string> | undefined;
  secret(name: string, namespace: string | undefined): ReadonlyMap<string, string> | undefined;
}

interface Entry {
  readonly namespace: string | undefined;
  readonly data: ReadonlyMap<string, string>;
}

/**
 * Collects ConfigMaps and Secrets from parsed documents (Lists included). A source without a
 * namespace matches any workload namespace, like genpolicy, which matches by name only.
 */
export function collectConfigSources(docs: readonly unknown[]): ConfigSources {
  const configMaps = new Map<string, Entry[]>();
  const secrets = new Map<string, Entry[]>();
  const visit = (doc: unknown): void => {
    if (!isRecord(doc)) return;
    if (doc.kind === "List" && Array.isArray(doc.items)) {
      for (const item of doc.items) visit(item);
      return;
    }
    if (doc.kind !== "ConfigMap" && doc.kind !== "Secret") return;
    const meta = isRecord(doc.metadata) ? doc.metadata : {};
    const name = typeof meta.name === "string" ? meta.name : undefined;
    if (name === undefined) return;
    const namespace = typeof meta.namespace === "string" ? meta.namespace : undefined;
    const data = new Map<string, string>();
    if (doc.kind === "ConfigMap") {
      addAll(data, doc.data, name, (v) => v);
    } else {
      addAll(data, doc.data, name, (v) => decodeSecretValue(v, name));
      addAll(data, doc.stringData, name, (v) => v);
    }
    const map = doc.kind === "ConfigMap" ? configMaps : secrets;
    map.set(name, [...(map.get(name) ?? []), { namespace, data }]);
  };
  for (const doc of docs) visit(doc);
  const find = (map: Map<string, Entry[]>, name: string, namespace: string | undefined) => {
    const entries = map.get(name) ?? [];
    return (
      entries.find((e) => e.namespace === namespace) ??
      entries.find((e) => e.namespace === undefined || namespace === undefined)
    )?.data;
  };
  return {
    configMap: (name, namespace) => find(configMaps, name, namespace),
    secret: (name, namespace) => find(secrets, name, namespace),
  };
}

function addAll(into: Map<string, string>, data: unknown, name: string, decode: (v: string) => string): void {
  if (!isRecord(data)) return;
  for (const [k, v] of Object.entries(data)) {
    // YAML turns `a: 1` into a number; Kubernetes would reject it, we take its text.
    if (typeof v === "string") into.set(k, decode(v));
    else if (typeof v === "number" || typeof v === "boolean") into.set(k, decode(String(v)));
    else if (v !== null && v !== undefined) {
      throw new PolicyError("POLICY_OBJECT_INVALID", `${name}: data.${k} must be a string`, {
        path: `data.${k}`,
        hint: "ConfigMap and Secret data values are strings.",
      });
    }
  }
}

function decodeSecretValue(value: string, name: string): string {
  try {
    return fromUtf8(fromBase64(value.replace(/\s+/g, "")));
  } catch (e) {
    throw new PolicyError("POLICY_OBJECT_INVALID", `Secret ${name}: a data value is not base64 UTF-8`, {
      cause: e,
      hint: "Secret data values are base64; use stringData for plain text.",
    });
  }
}
