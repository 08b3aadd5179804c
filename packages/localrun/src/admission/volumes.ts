import { fromBase64, fromUtf8 } from "@contrast/core";
import { isRecord, type JsonRecord } from "@contrast/kube";
import { AdmissionError } from "../admission-error-codes.js";
import type { AdmittedVolumeMount, PodVolume } from "./types.js";

type Files = Record<string, string>;

/** A ConfigMap's or Secret's keys, decoded (Secrets' data and both kinds' binaryData are base64). */
function objectData(doc: JsonRecord): Files {
  const out: Files = {};
  const decode = (v: unknown) => (typeof v === "string" ? fromUtf8(fromBase64(v.replace(/\s+/g, ""))) : "");
  if (isRecord(doc.binaryData)) for (const [k, v] of Object.entries(doc.binaryData)) out[k] = decode(v);
  if (isRecord(doc.data)) {
    for (const [k, v] of Object.entries(doc.data)) out[k] = doc.kind === "Secret" ? decode(v) : String(v ?? "");
  }
  // The API server merges stringData into data on write; it wins over data.
  if (doc.kind === "Secret" && isRecord(doc.stringData)) {
    for (const [k, v] of Object.entries(doc.stringData)) out[k] = String(v ?? "");
  }
  return out;
}

function findObject(
  documents: readonly unknown[],
  kind: "ConfigMap" | "Secret",
  name: string,
  namespace: string,
): JsonRecord | undefined {
  return documents.find((d): d is JsonRecord => {
    if (!isRecord(d) || d.kind !== kind || !isRecord(d.metadata)) return false;
    const ns = typeof d.metadata.namespace === "string" ? d.metadata.namespace : "default";
    return d.metadata.name === name && ns === namespace;
  });
}

/** The files a configMap or secret volume source projects: every key, or the `items` it lists. */
function projectedFiles(
  source: JsonRecord,
  kind: "ConfigMap" | "Secret",
  documents: readonly unknown[],
  namespace: string,
  volume: string,
): Files {
  const name = String((kind === "Secret" ? source.secretName : source.name) ?? source.name ?? "");
  const doc = findObject(documents, kind, name, namespace);
  if (doc === undefined) {
    if (source.optional === true) return {};
    throw new AdmissionError(
      "LOCALRUN_VOLUME_SOURCE_MISSING",
      `volume ${volume}: ${kind} ${namespace}/${name} was not deployed`,
      {
        details: { volume, kind, name, namespace },
      },
    );
  }
  const data = objectData(doc);
  if (!Array.isArray(source.items)) return data;
  const out: Files = {};
  for (const item of source.items.filter(isRecord)) {
    const key = String(item.key ?? "");
    const value = data[key];
    if (value === undefined) {
      if (source.optional === true) continue;
      throw new AdmissionError(
        "LOCALRUN_VOLUME_SOURCE_MISSING",
        `volume ${volume}: ${kind} ${namespace}/${name} has no key ${key}`,
        {
          details: { volume, kind, name, namespace, key },
        },
      );
    }
    out[String(item.path ?? key)] = value;
  }
  return out;
}

function checkedPath(volume: string, path: string): string {
  const parts = path.split("/");
  if (path === "" || path.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new AdmissionError(
      "LOCALRUN_VOLUME_UNSUPPORTED",
      `volume ${volume}: file path ${JSON.stringify(path)} is not a clean relative path`,
      {
        hint: "Item paths of configMap and secret volumes are relative paths without '..'.",
        details: { volume, path },
      },
    );
  }
  return path;
}

/**
 * The pod's volumes as the local runtime provides them. A volumeMount may also name one of a
 * StatefulSet's volumeClaimTemplates: its claim is `<template>-<pod>`, as the controller names it.
 */
export function podVolumes(
  spec: JsonRecord,
  claimTemplates: readonly string[],
  podName: string,
  namespace: string,
  documents: readonly unknown[],
): PodVolume[] {
  const out: PodVolume[] = [];
  for (const v of Array.isArray(spec.volumes) ? spec.volumes.filter(isRecord) : []) {
    const name = String(v.name ?? "");
    if (isRecord(v.emptyDir)) {
      const medium = typeof v.emptyDir.medium === "string" && v.emptyDir.medium !== "" ? v.emptyDir.medium : undefined;
      out.push({ name, kind: "emptyDir", ...(medium === undefined ? {} : { medium }) });
    } else if (isRecord(v.persistentVolumeClaim)) {
      out.push({ name, kind: "claim", claim: String(v.persistentVolumeClaim.claimName ?? name) });
    } else if (isRecord(v.configMap) || isRecord(v.secret)) {
      const kind = isRecord(v.configMap) ? "ConfigMap" : "Secret";
      const files = projectedFiles((v.configMap ?? v.secret) as JsonRecord, kind, documents, namespace, name);
      out.push({ name, kind: "files", files: clean(name, files) });
    } else if (isRecord(v.projected)) {
      const files: Files = {};
      for (const s of Array.isArray(v.projected.sources) ? v.projected.sources.filter(isRecord) : []) {
        if (isRecord(s.configMap))
          Object.assign(files, projectedFiles(s.configMap, "ConfigMap", documents, namespace, name));
        else if (isRecord(s.secret))
          Object.assign(files, projectedFiles(s.secret, "Secret", documents, namespace, name));
        else throw unsupported(name, Object.keys(s).join(", "));
      }
      out.push({ name, kind: "files", files: clean(name, files) });
    } else {
      throw unsupported(
        name,
        Object.keys(v)
          .filter((k) => k !== "name")
          .join(", ") || "(none)",
      );
    }
  }
  for (const t of claimTemplates) {
    if (!out.some((v) => v.name === t)) out.push({ name: t, kind: "claim", claim: `${t}-${podName}` });
  }
  return out;
}

function clean(volume: string, files: Files): Files {
  const out: Files = {};
  for (const [path, content] of Object.entries(files)) out[checkedPath(volume, path)] = content;
  return out;
}

function unsupported(volume: string, type: string): AdmissionError {
  return new AdmissionError(
    "LOCALRUN_VOLUME_UNSUPPORTED",
    `volume ${volume}: type ${type} is not supported by the local runtime`,
    {
      details: { volume, type },
    },
  );
}

/** A container's volumeMounts; each must name a pod volume. */
export function containerMounts(
  c: JsonRecord,
  volumes: readonly PodVolume[],
  container: string,
): AdmittedVolumeMount[] {
  const out: AdmittedVolumeMount[] = [];
  for (const m of Array.isArray(c.volumeMounts) ? c.volumeMounts.filter(isRecord) : []) {
    const name = String(m.name ?? "");
    if (!volumes.some((v) => v.name === name)) {
      throw new AdmissionError(
        "LOCALRUN_WORKLOAD_INVALID",
        `container ${container}: volumeMount ${name} names no volume of the pod`,
        {
          hint: "Every volumeMount must name one of the pod's volumes (or a volumeClaimTemplate).",
          details: { container, volume: name },
        },
      );
    }
    const subPath = typeof m.subPath === "string" && m.subPath !== "" ? m.subPath : undefined;
    out.push({
      name,
      mountPath: String(m.mountPath ?? ""),
      readOnly: m.readOnly === true,
      ...(subPath === undefined ? {} : { subPath }),
    });
  }
  return out;
}
