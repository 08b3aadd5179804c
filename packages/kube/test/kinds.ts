import { dump } from "js-yaml";

/**
 * Hand-made workloads, one of every kind generate handles, each with a Contrast runtime class, a
 * user init container, a user volume and two containers (one with a volume mount already).
 */
export const POD_SPEC = {
  runtimeClassName: "contrast-cc",
  initContainers: [{ name: "migrate", image: "registry.example/migrate:1" }],
  containers: [
    {
      name: "app",
      image: "registry.example/app:1",
      volumeMounts: [{ name: "data", mountPath: "/data" }],
      resources: { limits: { memory: "128Mi" }, requests: { memory: "128Mi" } },
    },
    { name: "metrics", image: `registry.example/metrics@sha256:${"b".repeat(64)}` },
  ],
  volumes: [{ name: "data", emptyDir: {} }],
};

const template = (spec: unknown) => ({ metadata: { labels: { app: "x" } }, spec });

/** kind -> [apiVersion, object without metadata.name] */
export function workload(
  kind: string,
  name: string,
  spec: unknown = POD_SPEC,
  objectAnnotations?: Record<string, string>,
) {
  const metadata = {
    name,
    namespace: "shop",
    ...(objectAnnotations === undefined ? {} : { annotations: objectAnnotations }),
  };
  switch (kind) {
    case "Pod":
      return { apiVersion: "v1", kind, metadata, spec };
    case "Deployment":
    case "ReplicaSet":
    case "StatefulSet":
    case "DaemonSet":
      return {
        apiVersion: "apps/v1",
        kind,
        metadata,
        spec: { selector: { matchLabels: { app: "x" } }, template: template(spec) },
      };
    case "ReplicationController":
      return { apiVersion: "v1", kind, metadata, spec: { template: template(spec) } };
    case "Job":
      return { apiVersion: "batch/v1", kind, metadata, spec: { template: template(spec) } };
    case "CronJob":
      return {
        apiVersion: "batch/v1",
        kind,
        metadata,
        spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: template(spec) } } },
      };
    default:
      throw new Error(`no such kind ${kind}`);
  }
}

export const KINDS = [
  "Pod",
  "Deployment",
  "ReplicaSet",
  "ReplicationController",
  "StatefulSet",
  "DaemonSet",
  "Job",
  "CronJob",
];

export const yaml = (v: unknown): string => dump(v, { lineWidth: -1, noRefs: true });
