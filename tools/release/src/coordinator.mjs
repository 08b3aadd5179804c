import { serializeYamlDocuments } from "@contrast/kube";
import { generatePolicies } from "@contrast/policy";
import { releaseError } from "./errors.mjs";

export const COORDINATOR = "coordinator";
/** Where the Coordinator keeps its history (store fs) inside the pod: the PVC. */
export const STATE_DIR = "/var/lib/contrast";
const PORTS = [
  { name: "userapi", containerPort: 1313 },
  { name: "meshapi", containerPort: 7777 },
];
const PROBE_PORT = 9102;

/**
 * coordinator-<platform>.yml before policy generation (reference §10, NEWER shape): a
 * ServiceAccount with a Role for the ConfigMap store, the StatefulSet, and the Services
 * `coordinator` (unready endpoints too, for set and recover) and `coordinator-ready`.
 * `store` picks the Coordinator's history store (apps/coordinator, docs/coordinator-storage.md):
 * `fs` (the default) on a PVC from `volumeClaimTemplates`, or `configmap` (newer upstream's):
 * ConfigMaps in the pod's namespace through its service account, no volume. docs/release.md says
 * when to take which.
 * @param {import("@contrast/manifest").Platform} platform
 * @param {{ handler: string, image: string, store?: "fs" | "configmap" }} options
 * @returns {Record<string, unknown>[]}
 */
export function coordinatorObjects(platform, options) {
  const store = options.store ?? "configmap";
  const labels = { "app.kubernetes.io/name": COORDINATOR };
  const serviceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: COORDINATOR } };
  const role = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: COORDINATOR },
    rules: [
      { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "create", "update", "watch"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
    ],
  };
  const roleBinding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: COORDINATOR },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: COORDINATOR },
    subjects: [{ kind: "ServiceAccount", name: COORDINATOR }],
  };
  const probe = (path, extra) => ({ httpGet: { path, port: PROBE_PORT }, ...extra });
  const statefulSet = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: COORDINATOR, labels },
    spec: {
      serviceName: COORDINATOR,
      replicas: 1,
      selector: { matchLabels: labels },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Delete" },
      template: {
        metadata: {
          labels,
          annotations: { "contrast.edgeless.systems/pod-role": COORDINATOR, "prometheus.io/scrape": "true" },
        },
        spec: {
          runtimeClassName: options.handler,
          serviceAccountName: COORDINATOR,
          containers: [
            {
              name: COORDINATOR,
              image: options.image,
              env: [
                // apps/coordinator/src/config.ts: the TEE (sim, snp or tdx) and the fs store.
                { name: "CONTRAST_PLATFORM", value: platform.tee },
                ...(store === "fs"
                  ? [
                      { name: "CONTRAST_STORE", value: "fs" },
                      { name: "CONTRAST_STATE_DIR", value: `${STATE_DIR}/history` },
                    ]
                  : [
                      { name: "CONTRAST_STORE", value: "configmap" },
                      { name: "CONTRAST_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                    ]),
                { name: "CONTRAST_LOG_LEVEL", value: "info" },
              ],
              ports: [...PORTS, { name: "probes", containerPort: PROBE_PORT }],
              securityContext: { capabilities: { add: ["NET_ADMIN"] } },
              resources: { requests: { memory: "200Mi" }, limits: { memory: "200Mi" } },
              startupProbe: probe("/probe/startup", { initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 60 }),
              livenessProbe: probe("/probe/liveness", { periodSeconds: 10, failureThreshold: 3 }),
              readinessProbe: probe("/probe/readiness", { periodSeconds: 5 }),
              ...(store === "fs" ? { volumeMounts: [{ name: "state", mountPath: STATE_DIR }] } : {}),
            },
          ],
        },
      },
      ...(store === "fs"
        ? {
            volumeClaimTemplates: [
              {
                metadata: { name: "state" },
                spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
              },
            ],
          }
        : {}),
    },
  };
  const service = (name, notReady) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name,
      ...(notReady ? { annotations: { "contrast.edgeless.systems/expose-service": "true" } } : {}),
    },
    spec: {
      selector: labels,
      ...(notReady ? { publishNotReadyAddresses: true } : {}),
      ports: PORTS.map((p) => ({ name: p.name, port: p.containerPort, targetPort: p.containerPort })),
    },
  });
  return [
    serviceAccount,
    role,
    roleBinding,
    statefulSet,
    service(COORDINATOR, true),
    service(`${COORDINATOR}-ready`, false),
  ];
}

/**
 * The objects as YAML, annotated with the Coordinator's policy by the same generator `contrast
 * generate` uses, for the platform's profile, with the image's metadata from `images` (the OCI
 * layout the release was built into). Returns the YAML and the policy hash.
 * @param {Record<string, unknown>[]} objects
 * @param {{ images: import("@contrast/oci").ImageMetadataSource, profile: import("@contrast/policy").PolicyProfile, source: string }} options
 */
export async function withCoordinatorPolicy(objects, options) {
  const yaml = toYaml(objects);
  const result = await generatePolicies(yaml, {
    images: options.images,
    profile: options.profile,
    source: options.source,
  });
  const coordinator = result.workloads.find((w) => w.kind === "StatefulSet" && w.name === COORDINATOR);
  if (coordinator === undefined)
    throw releaseError("RELEASE_POLICY_MISSING", `${options.source}: no policy for the Coordinator`);
  return { yaml: result.yaml, policyHash: coordinator.policyHash, warnings: result.warnings };
}

/**
 * A YAML stream of the objects, through @contrast/kube's writer (the one `generate` uses).
 * @param {readonly unknown[]} objects
 */
export function toYaml(objects) {
  return serializeYamlDocuments(objects.map((o) => ({ raw: "", replacement: o })));
}
